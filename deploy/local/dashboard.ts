/**
 * The OpenStack dashboard (Debian's Horizon) for `npm run up -- --dashboard`, served by Debian's uWSGI
 * on a loopback port and pointed at this system's Keystone. Nothing of the machine's own Horizon
 * configuration is changed: the settings are a module of this system's state folder that takes
 * Debian's settings and overrides what differs (the Keystone URL, the hosts it answers to, the session
 * store, the secret key, the console type). uWSGI's master reads them as root; its one worker serves
 * requests as `www-data` with Debian's precompressed static files mapped in.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian puts what the dashboard needs: the WSGI server, its Python plugin, Horizon and its static files. */
export const DASHBOARD_FILES = {
  uwsgi: '/usr/bin/uwsgi',
  horizon: '/usr/share/openstack-dashboard',
  statics: '/var/lib/openstack-dashboard/static',
} as const;

const PACKAGES = 'openstack-dashboard uwsgi-core uwsgi-plugin-python3';

export interface DashboardFiles {
  /** The uWSGI configuration the dashboard process is started with. */
  readonly ini: string;
  readonly url: string;
}

/** Refuses early, naming the packages, when Debian's dashboard or uWSGI is not installed. */
export function assertDashboardInstalled(): void {
  const missing = Object.values(DASHBOARD_FILES).filter((path) => !existsSync(path));
  if (missing.length > 0)
    throw new Error(
      `the dashboard needs Debian's ${PACKAGES} (missing ${missing.join(', ')}); install them with apt-get`,
    );
}

const python = (value: string): string => JSON.stringify(value);

/**
 * Writes the dashboard's settings module, WSGI entry point and uWSGI configuration under `dir`, for a
 * dashboard on `port` talking to the Keystone at `identityUrl`. The secret key is made once and kept.
 */
export function writeDashboardFiles(dir: string, port: number, identityUrl: string): DashboardFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secretFile = join(dir, 'secret_key');
  if (!existsSync(secretFile))
    writeFileSync(secretFile, randomBytes(36).toString('base64url'), { mode: 0o600 });
  const secret = readFileSync(secretFile, 'utf8').trim();
  const settings = join(dir, 'nimbus_dashboard_settings.py');

  writeFileSync(
    settings,
    [
      '"""The OpenStack dashboard for one Nimbus system: Debian\'s settings, pointed at its Keystone."""',
      'from openstack_dashboard.settings import *  # noqa: F401,F403',
      '',
      `OPENSTACK_KEYSTONE_URL = ${python(identityUrl)}`,
      "OPENSTACK_API_VERSIONS = {'identity': 3}",
      "OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'",
      'OPENSTACK_KEYSTONE_MULTIDOMAIN_SUPPORT = False',
      "ALLOWED_HOSTS = ['127.0.0.1', 'localhost']",
      `SECRET_KEY = ${python(secret)}`,
      "# Sessions live in the one worker process, as in Debian's default configuration.",
      "SESSION_ENGINE = 'django.contrib.sessions.backends.cache'",
      "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}",
      "CONSOLE_TYPE = 'VNC'",
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  // The settings are loaded from their file, not found on sys.path: the worker, as www-data, may not
  // be able to look into this folder, and Horizon's plugin loader looks into every sys.path entry.
  writeFileSync(
    join(dir, 'wsgi.py'),
    [
      'import importlib.util',
      'import os',
      'import sys',
      '',
      `spec = importlib.util.spec_from_file_location('nimbus_dashboard_settings', ${python(settings)})`,
      'settings = importlib.util.module_from_spec(spec)',
      "sys.modules['nimbus_dashboard_settings'] = settings",
      'spec.loader.exec_module(settings)',
      "os.environ['DJANGO_SETTINGS_MODULE'] = 'nimbus_dashboard_settings'",
      `sys.path[:] = [entry for entry in sys.path if entry.rstrip('/') != ${python(dir)}]`,
      '',
      'from django.core.wsgi import get_wsgi_application  # noqa: E402',
      '',
      'application = get_wsgi_application()',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const ini = join(dir, 'uwsgi.ini');
  writeFileSync(
    ini,
    [
      '[uwsgi]',
      'plugins = python3',
      'master = true',
      // The master loads the settings (kept 0600 here) before the worker drops to www-data.
      'master-as-root = true',
      'uid = www-data',
      'gid = www-data',
      'processes = 1',
      'threads = 8',
      `http-socket = 127.0.0.1:${port}`,
      `chdir = ${DASHBOARD_FILES.horizon}`,
      `python-path = ${DASHBOARD_FILES.horizon}`,
      `wsgi-file = ${join(dir, 'wsgi.py')}`,
      `static-map = /static=${DASHBOARD_FILES.statics}`,
      // Horizon's session cookies and Keystone's headers outgrow uWSGI's 4 KiB default.
      'buffer-size = 65535',
      'need-app = true',
      // SIGTERM stops uWSGI (it would otherwise reload), so `npm run down` ends it like any part.
      'die-on-term = true',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { ini, url: `http://127.0.0.1:${port}` };
}
