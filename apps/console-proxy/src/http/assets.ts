/**
 * Every file the proxy serves, loaded once at start-up into memory: the console page (ours) and the
 * noVNC client's ES modules, read from the installed npm package `@novnc/novnc` (its `core/` and
 * `vendor/` trees; no copy lives in this repository). A request is answered only if its path is a
 * key of this table, so no request path ever reaches the file system.
 * Must never serve a file outside that package's `core/` and `vendor/` JavaScript, or the page.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { CONSOLE_PAGE_CSS, CONSOLE_PAGE_HTML, CONSOLE_PAGE_SCRIPT } from './console-page.js';
import type { AssetKind } from './headers.js';

export interface Asset {
  readonly kind: AssetKind;
  readonly body: Buffer;
  /** A strong ETag: the body's SHA-256, shortened. */
  readonly etag: string;
}

export type AssetTable = ReadonlyMap<string, Asset>;

/** The page's URL path: what access URLs name. */
export const CONSOLE_PAGE_PATH = '/vnc_lite.html';

const asset = (kind: AssetKind, body: Buffer | string): Asset => {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return {
    kind,
    body: bytes,
    etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
  };
};

/** The root of the installed @novnc/novnc package (its `exports` names only core/rfb.js). */
export function noVncRoot(): string {
  const entry = createRequire(import.meta.url).resolve('@novnc/novnc');
  return path.dirname(path.dirname(entry));
}

/** Every `.js` file under `dir`, as paths relative to it with forward slashes. */
function scriptsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

export function loadAssets(root: string = noVncRoot()): AssetTable {
  const table = new Map<string, Asset>([
    [CONSOLE_PAGE_PATH, asset('page', CONSOLE_PAGE_HTML)],
    ['/app/console.js', asset('script', CONSOLE_PAGE_SCRIPT)],
    ['/app/console.css', asset('style', CONSOLE_PAGE_CSS)],
  ]);
  for (const tree of ['core', 'vendor']) {
    for (const file of scriptsUnder(path.join(root, tree))) {
      table.set(`/${tree}/${file}`, asset('script', readFileSync(path.join(root, tree, file))));
    }
  }
  if (!table.has('/core/rfb.js')) throw new Error(`no noVNC client under ${root}`);
  return table;
}
