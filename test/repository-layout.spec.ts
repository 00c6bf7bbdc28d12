/**
 * The README's "What is here" table is how a newcomer finds a thing by its role: every app and every
 * lib in the tree must have its row, so a new one cannot be added silently.
 */
import { readdirSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);

function folders(parent: string): string[] {
  return readdirSync(new URL(parent, root), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${parent}/${entry.name}`);
}

function tableOfContents(): string {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const start = readme.indexOf('## What is here');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end);
}

describe('the README', () => {
  it.each([...folders('apps'), ...folders('libs')])('lists %s in its table of what is here', (folder) => {
    expect(tableOfContents()).toContain(`\`${folder}\``);
  });
});
