import { CONSOLE_PAGE_PATH, loadAssets } from './assets.js';

describe(loadAssets.name, () => {
  const assets = loadAssets();

  it("serves the console page and noVNC's modules from the installed package, nothing else", () => {
    expect(assets.get(CONSOLE_PAGE_PATH)?.kind).toBe('page');
    expect(assets.get('/app/console.js')?.kind).toBe('script');
    expect(assets.get('/app/console.css')?.kind).toBe('style');
    expect(assets.get('/core/rfb.js')?.body.toString()).toMatch(/export default class RFB/);
    expect([...assets.keys()].some((key) => key.startsWith('/vendor/pako/'))).toBe(true);
    for (const key of assets.keys()) {
      expect(key).toMatch(/^\/(vnc_lite\.html|app\/console\.(js|css)|(core|vendor)\/[\w./-]+\.js)$/);
      expect(key).not.toContain('..');
    }
  });

  it('names the page the way access URLs do and loads its script and style as files (no inline code)', () => {
    const page = assets.get(CONSOLE_PAGE_PATH)!.body.toString();
    expect(page).toContain('<script type="module" src="app/console.js"></script>');
    expect(page).toContain('<link rel="stylesheet" href="app/console.css">');
    expect(page).not.toMatch(/<script>|<script type="module">|<style|\sstyle=|\son\w+=/);
  });

  it('gives each file a strong ETag of its content', () => {
    const etags = [...assets.values()].map((asset) => asset.etag);
    for (const etag of etags) expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(new Set(etags).size).toBe(etags.length);
  });
});
