import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { BOOT_BANNER, findBootSource } from './boot-image.js';

describe('the boot image source', () => {
  it('prints the banner the rig and its tests look for', async () => {
    const source = await readFile(await findBootSource(), 'utf8');
    expect(source).toContain(`banner: db '${BOOT_BANNER}', 13, 10, 0`);
  });

  it('ends with the boot signature and pads to one 512-byte sector', async () => {
    const source = await readFile(await findBootSource(), 'utf8');
    expect(source).toMatch(/times 510 - \(\$ - \$\$\) db 0/);
    expect(source).toMatch(/dw 0xaa55/);
  });
});

describe(findBootSource.name, () => {
  it('finds the source beside the module when run from the repository', async () => {
    expect(await findBootSource(import.meta.dirname)).toBe(
      path.join(import.meta.dirname, 'boot-image', 'boot.asm'),
    );
  });

  it('finds deploy/rig/boot-image/boot.asm above a compiled dist/deploy/rig', async () => {
    const repo = await mkdtemp(path.join(tmpdir(), 'nimbus-boot-source-'));
    try {
      await mkdir(path.join(repo, 'deploy', 'rig', 'boot-image'), { recursive: true });
      await mkdir(path.join(repo, 'dist', 'deploy', 'rig'), { recursive: true });
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path.join(repo, 'deploy', 'rig', 'boot-image', 'boot.asm'), '; test\n');
      expect(await findBootSource(path.join(repo, 'dist', 'deploy', 'rig'))).toBe(
        path.join(repo, 'deploy', 'rig', 'boot-image', 'boot.asm'),
      );
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  it('says where it looked when there is no source', async () => {
    await expect(findBootSource('/')).rejects.toThrow(/cannot find deploy\/rig\/boot-image\/boot.asm/);
  });
});
