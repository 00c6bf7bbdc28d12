import { createHash } from 'node:crypto';

import { jsonLog, redact } from './log.js';

const hash = createHash('sha256').update('a token').digest('hex');

describe(redact.name, () => {
  it('cuts every SHA-256 digest to the 8 digits a log line may show', () => {
    expect(redact(`event console-${hash}@0 breaks its contract`)).toBe(
      `event console-${hash.slice(0, 8)}…@0 breaks its contract`,
    );
    expect(redact(`${hash} and ${hash.toUpperCase()}`)).not.toContain(hash.slice(8));
  });

  it('leaves shorter hex (ids, ports, prefixes) alone', () => {
    const text = 'instance 3f0c3e1e-0000-4000-8000-000000000001 port 5901 token 1a2b3c4d';
    expect(redact(text)).toBe(text);
  });
});

describe(jsonLog.name, () => {
  it('writes one JSON object per line with the message and fields', () => {
    const lines: string[] = [];
    jsonLog((line) => lines.push(line))('console opened', { token: '1a2b3c4d', host: 'h1' });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'console opened', token: '1a2b3c4d', host: 'h1' });
  });
});
