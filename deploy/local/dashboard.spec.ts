import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { writeDashboardFiles } from './dashboard.js';

describe('the dashboard files', () => {
  let dir: string;

  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'nimbus-dashboard-spec-')), 'dashboard');
  });

  afterEach(() => {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it("point Debian's Horizon at this system's Keystone, on loopback, with the console framed", () => {
    const files = writeDashboardFiles(dir, 8181, 'http://127.0.0.1:8774/v3');
    expect(files.url).toBe('http://127.0.0.1:8181');
    const settings = readFileSync(join(dir, 'nimbus_dashboard_settings.py'), 'utf8');
    expect(settings).toContain('from openstack_dashboard.settings import *');
    expect(settings).toContain('OPENSTACK_KEYSTONE_URL = "http://127.0.0.1:8774/v3"');
    expect(settings).toContain("ALLOWED_HOSTS = ['127.0.0.1', 'localhost']");
    expect(settings).toContain("CONSOLE_TYPE = 'VNC'");
    const ini = readFileSync(files.ini, 'utf8');
    expect(ini).toContain('http-socket = 127.0.0.1:8181');
    expect(ini).toMatch(/^uid = www-data$/m);
    expect(ini).toMatch(/^die-on-term = true$/m);
    // The settings are loaded by path, never from a sys.path entry the worker cannot read.
    expect(ini).not.toContain(`python-path = ${dir}`);
    expect(readFileSync(join(dir, 'wsgi.py'), 'utf8')).toContain(
      JSON.stringify(join(dir, 'nimbus_dashboard_settings.py')),
    );
  });

  it('keep the secret key across runs, readable by root only', () => {
    writeDashboardFiles(dir, 8181, 'http://127.0.0.1:8774/v3');
    const key = readFileSync(join(dir, 'secret_key'), 'utf8');
    writeDashboardFiles(dir, 8282, 'http://127.0.0.1:8774/v3');
    expect(readFileSync(join(dir, 'secret_key'), 'utf8')).toBe(key);
    expect(key.length).toBeGreaterThanOrEqual(40);
    expect(readFileSync(join(dir, 'nimbus_dashboard_settings.py'), 'utf8')).toContain(
      `SECRET_KEY = "${key}"`,
    );
    for (const file of ['secret_key', 'nimbus_dashboard_settings.py']) {
      expect(statSync(join(dir, file)).mode & 0o077).toBe(0);
    }
  });
});
