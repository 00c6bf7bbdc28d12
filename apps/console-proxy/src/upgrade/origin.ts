/**
 * Which web pages may open a console: the WebSocket `Origin` header must be, exactly, one of the
 * allowed origins. A browser always sends it and a page cannot forge it, so this is what stops
 * another site's page (cross-site WebSocket hijacking) from using a token it got hold of, or a
 * user's token leaking through a page the user was lured to.
 * Must never accept a request without an Origin, an opaque (`null`) one, or one merely similar.
 */

/** The serialised origin of an http(s) URL (scheme, host, port; default ports dropped). */
export function originOf(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`not an http(s) URL: ${parsed.protocol}`);
  return parsed.origin;
}

export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  /** `origins` are URLs; only their origins count, so `http://h:80/x` allows `http://h`. */
  constructor(origins: readonly string[]) {
    if (origins.length === 0) throw new Error('at least one allowed origin is needed');
    this.allowed = new Set(origins.map(originOf));
  }

  list(): readonly string[] {
    return [...this.allowed];
  }

  /**
   * Browsers send the origin already serialised, so the header must be its own serialisation
   * (no path, no trailing slash, lower-case scheme and host) and one of the allowed ones.
   */
  allows(header: string | readonly string[] | undefined): boolean {
    if (typeof header !== 'string' || header === '' || header === 'null') return false;
    let serialised: string;
    try {
      serialised = originOf(header);
    } catch {
      return false;
    }
    return serialised === header && this.allowed.has(serialised);
  }
}
