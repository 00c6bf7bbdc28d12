/**
 * What a noVNC page shows, read in the browser: how many pixels of its canvas differ from the most
 * common colour (the background), so a suite can tell a drawn guest screen from a blank one.
 */

/** Something Playwright can run a script in: a page or a frame. */
interface ScriptTarget {
  evaluate<R>(script: string): Promise<R>;
}

const LIT_PIXELS = `(() => {
  const canvas = document.querySelector('#screen canvas');
  if (!canvas || canvas.width === 0) return 0;
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return data.length / 4 - Math.max(...counts.values());
})()`;

/** Pixels of the noVNC canvas that are not the background (0 before anything is drawn). */
export function litPixels(target: ScriptTarget): Promise<number> {
  return target.evaluate<number>(LIT_PIXELS);
}
