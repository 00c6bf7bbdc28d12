/**
 * A data folder the server cannot use is a clear error and a distinct exit status (78), never a
 * crash loop: a corrupt database file, and a folder another server holds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EVENT_STORE_MAIN, startEventStoreProcess } from '../../../test/support/event-store-process.js';

const run = (dataDir: string) =>
  spawnSync(process.execPath, [EVENT_STORE_MAIN, '--data-dir', dataDir, '--port', '0'], {
    encoding: 'utf8',
    timeout: 15_000,
  });

describe('event store data folder', () => {
  it('refuses a corrupt database file with a message that names it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-corrupt-'));
    writeFileSync(join(dataDir, 'events.sqlite'), Buffer.alloc(8192, 0x5a));

    const result = run(dataDir);

    expect(result.status).toBe(78);
    expect(result.stderr).toContain(join(dataDir, 'events.sqlite'));
    expect(result.stderr).toMatch(/not a readable event store database/);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a folder another running server holds, naming that process', async () => {
    const holder = await startEventStoreProcess();
    try {
      const result = run(holder.dataDir);

      expect(result.status).toBe(78);
      expect(result.stderr).toContain(`in use by another event store process (pid ${holder.pid})`);
    } finally {
      await holder.stop();
    }
  });

  it('rejects invalid configuration with the list of problems', () => {
    const result = spawnSync(process.execPath, [EVENT_STORE_MAIN, '--port', '70000'], { encoding: 'utf8' });

    expect(result.status).toBe(78);
    expect(result.stderr).toContain('port must not be greater than 65535');
  });
});
