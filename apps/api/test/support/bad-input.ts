/**
 * A small seeded generator of bad requests for the malformed-input test: random JSON of every shape,
 * mutations of valid bodies that are invalid by construction, broken JSON text, wrong content types,
 * bad version headers and hostile path ids. Seeded, so a failure names the seed that reproduces it.
 */

/** mulberry32: a tiny, good-enough PRNG for test data. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class BadInput {
  constructor(private readonly random: () => number) {}

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  string(): string {
    return this.pick<() => string>([
      () => '',
      () => ' ',
      () => 'a'.repeat(256 + this.int(2000)),
      () => '\u0000\u0001\u001f',
      () => ' leading',
      () => 'trailing ',
      () => '😀💥',
      () => '\ud800',
      () => '../../etc/passwd',
      () => '<script>alert(1)</script>',
      () => "'; DROP TABLE servers; --",
      () => '%00%2F%2e%2e',
      () => String(this.random()),
      () => 'null',
      () => '{"nested": "json"}',
      () => Array.from({ length: 1 + this.int(20) }, () => String.fromCharCode(32 + this.int(95))).join(''),
    ])();
  }

  number(): number {
    return this.pick([
      0,
      -1,
      -2147483649,
      2147483648,
      1e308,
      -0,
      0.5,
      Number.MAX_SAFE_INTEGER + 2,
      3.14159,
      1e-9,
    ]);
  }

  /** Any JSON value, up to `depth` levels deep. */
  json(depth = 3): unknown {
    const kinds =
      depth <= 0
        ? ['string', 'number', 'bool', 'null']
        : ['string', 'number', 'bool', 'null', 'array', 'object', 'object'];
    switch (this.pick(kinds)) {
      case 'string':
        return this.string();
      case 'number':
        return this.number();
      case 'bool':
        return this.chance(0.5);
      case 'null':
        return null;
      case 'array':
        return Array.from({ length: this.int(5) }, () => this.json(depth - 1));
      default:
        return Object.fromEntries(
          Array.from({ length: this.int(5) }, () => [
            `x-${this.string().slice(0, 12)}`,
            this.json(depth - 1),
          ]),
        );
    }
  }

  /**
   * A valid body made invalid by construction: an unknown member of a non-string type is added to every
   * object (each schema refuses it), and some leaves are replaced by random values.
   */
  breakBody(valid: unknown): unknown {
    const walk = (value: unknown, top: boolean): unknown => {
      if (Array.isArray(value)) return value.map((item) => walk(item, false));
      if (typeof value !== 'object' || value === null) return this.chance(0.3) ? this.json(1) : value;
      const entries = Object.entries(value).map(([key, item]) => [key, walk(item, false)] as const);
      const broken: Record<string, unknown> = Object.fromEntries(entries);
      if (top || this.chance(0.7)) broken['zz_unknown'] = { deep: [this.json(1)] };
      return broken;
    };
    return walk(valid, true);
  }

  brokenJsonText(valid: unknown): string {
    const text = JSON.stringify(valid);
    return this.pick<() => string>([
      () => text.slice(0, Math.max(1, this.int(text.length))),
      () => `${text},`,
      () => text.replace(/"/g, "'"),
      () => `{${text}`,
      () => '{"__proto__": {"polluted": true}}',
      () => '{"constructor": {"prototype": {"polluted": true}}}',
      () => String.fromCharCode(...Array.from({ length: 40 }, () => this.int(256))),
      () => 'nul',
      () => '',
    ])();
  }

  /** A compute version header value no server may accept. */
  badVersion(): string {
    return this.pick([
      'compute 3.0',
      'compute 2.94',
      'compute 1.9',
      'compute 2.',
      'compute two',
      'compute 2.1.1',
      'compute latest2',
      'compute 02.001x',
      `compute ${this.string()}`,
    ]);
  }

  /** Path segments that are not ids of anything. */
  badId(): string {
    const raw = this.pick<() => string>([
      () => 'not-a-uuid',
      () => '00000000-0000-4000-8000-00000000000',
      () => crypto.randomUUID(),
      () => crypto.randomUUID().toUpperCase(),
      () => '..',
      () => '%2e%2e',
      () => 'a'.repeat(300),
      () => this.string().slice(0, 200) || 'x',
      () => '😀',
      () => '-1',
    ])();
    // Lone surrogates cannot be percent-encoded; the rest of the text is kept as generated.
    return encodeURIComponent(raw.replace(/[\ud800-\udfff]/gu, '?'));
  }
}
