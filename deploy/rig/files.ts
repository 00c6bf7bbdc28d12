// Small file helpers shared by the rig's modules. They only read and write the paths they are given.

import { access, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, file);
}

/**
 * A file the repository keeps in deploy/rig (a source the rig builds or installs). Run from source (Jest)
 * it sits beside the rig's modules; run from the compiled dist/deploy/rig/ it does not (tsc copies no
 * assets), so the folders above are searched for the repository's deploy/rig/<relative>.
 */
export async function findRigFile(relative: string, moduleDir: string): Promise<string> {
  const beside = path.join(moduleDir, relative);
  if (await exists(beside)) return beside;
  const inRepo = path.join('deploy', 'rig', relative);
  for (let dir = moduleDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, inRepo);
    if (await exists(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`cannot find ${inRepo} beside or above ${moduleDir}`);
}
