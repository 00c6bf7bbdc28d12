/**
 * A small, strict XML reader for tests: enough of XML 1.0 to read libvirt domain XML back into a tree
 * (elements, attributes, text, the five predefined entities and character references; comments and
 * an XML declaration are skipped). Tests use it to assert on structure instead of on snapshots.
 * Must never be lenient: an unescaped `<` or `&`, a mismatched tag or trailing content is an error,
 * because the tests rely on it to prove that hostile input cannot change a document's structure.
 * Not for production parsing (no DTDs, namespaces or CDATA).
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text, entities decoded, concatenated across its children. */
  readonly text: string;
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function readXml(source: string): XmlElement {
  const reader = new Reader(source);
  reader.skipProlog();
  const root = reader.element();
  reader.skipMisc();
  if (!reader.atEnd()) reader.fail('content after the root element');
  return root;
}

/** The first descendant (depth first) with this name, or undefined. */
export function findElement(root: XmlElement, name: string): XmlElement | undefined {
  for (const child of root.children) {
    if (child.name === name) return child;
    const found = findElement(child, name);
    if (found) return found;
  }
  return undefined;
}

/** Every element of the tree, root first, depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}

class Reader {
  private at = 0;
  constructor(private readonly source: string) {}

  atEnd(): boolean {
    return this.at >= this.source.length;
  }

  fail(what: string): never {
    throw new Error(`malformed XML at offset ${this.at}: ${what}`);
  }

  skipProlog(): void {
    if (this.source.startsWith('<?xml', this.at)) this.skipPast('?>');
    this.skipMisc();
  }

  skipMisc(): void {
    for (;;) {
      this.skipSpace();
      if (this.source.startsWith('<!--', this.at)) this.skipPast('-->');
      else return;
    }
  }

  element(): XmlElement {
    this.expect('<');
    const name = this.name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const hadSpace = this.skipSpace();
      if (this.source.startsWith('/>', this.at)) {
        this.at += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (this.source.startsWith('>', this.at)) {
        this.at += 1;
        break;
      }
      if (!hadSpace) this.fail('attributes must be separated by white space');
      const attribute = this.name();
      if (attribute in attributes) this.fail(`duplicate attribute ${attribute}`);
      this.skipSpace();
      this.expect('=');
      this.skipSpace();
      attributes[attribute] = this.attributeValue();
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (this.atEnd()) this.fail(`<${name}> is never closed`);
      if (this.source.startsWith('</', this.at)) {
        this.at += 2;
        if (this.name() !== name) this.fail(`</...> does not close <${name}>`);
        this.skipSpace();
        this.expect('>');
        return { name, attributes, children, text };
      }
      if (this.source.startsWith('<!--', this.at)) this.skipPast('-->');
      else if (this.source.startsWith('<', this.at)) children.push(this.element());
      else text += this.text('<');
    }
  }

  private attributeValue(): string {
    const quote = this.source[this.at];
    if (quote !== '"' && quote !== "'") this.fail('attribute value must be quoted');
    this.at += 1;
    const value = this.text(quote);
    this.expect(quote);
    return value;
  }

  /** Character data up to `end` (not consumed), entities decoded; a raw `<` or `&` is an error. */
  private text(end: string): string {
    let out = '';
    while (!this.atEnd() && this.source[this.at] !== end) {
      const char = this.source.charAt(this.at);
      if (char === '<') this.fail('unescaped < in character data');
      if (char === '&') {
        out += this.reference();
        continue;
      }
      out += char;
      this.at += 1;
    }
    return out;
  }

  private reference(): string {
    const semi = this.source.indexOf(';', this.at);
    if (semi < 0) this.fail('unterminated entity reference');
    const body = this.source.slice(this.at + 1, semi);
    let value: string | undefined;
    if (/^#[0-9]+$/.test(body)) value = String.fromCodePoint(Number(body.slice(1)));
    else if (/^#x[0-9A-Fa-f]+$/.test(body)) value = String.fromCodePoint(parseInt(body.slice(2), 16));
    else value = PREDEFINED[body];
    if (value === undefined) this.fail(`unknown entity &${body};`);
    this.at = semi + 1;
    return value;
  }

  private name(): string {
    NAME.lastIndex = this.at;
    const match = NAME.exec(this.source);
    if (!match) this.fail('expected a name');
    this.at += match[0].length;
    return match[0];
  }

  private skipSpace(): boolean {
    const start = this.at;
    while (!this.atEnd() && ' \t\r\n'.includes(this.source.charAt(this.at))) this.at += 1;
    return this.at > start;
  }

  private skipPast(marker: string): void {
    const end = this.source.indexOf(marker, this.at);
    if (end < 0) this.fail(`missing ${marker}`);
    this.at = end + marker.length;
  }

  private expect(literal: string): void {
    if (!this.source.startsWith(literal, this.at)) this.fail(`expected ${literal}`);
    this.at += literal.length;
  }
}
