/**
 * The consoles this proxy has open, or is opening, by token hash: what a revocation read from the
 * store closes. A console is tracked from before its token's point read, so a revocation stored
 * after that read (which the read could not see) still reaches it, whether it is open by then or
 * still waiting for its tunnel.
 * Must never hold a token, only its hash, and never keep a console after it is released.
 */

export interface TrackedConsole {
  readonly tokenHash: string;
  /** The reason the store gave once the token is revoked; null until then. */
  revokedReason(): string | null;
  /** Called once, at once if the token is revoked already. */
  onRevoked(listener: (reason: string) => void): void;
  release(): void;
}

class Entry implements TrackedConsole {
  private reason: string | null = null;
  private listener: ((reason: string) => void) | null = null;

  constructor(
    readonly tokenHash: string,
    private readonly forget: (entry: Entry) => void,
  ) {}

  revokedReason(): string | null {
    return this.reason;
  }

  onRevoked(listener: (reason: string) => void): void {
    if (this.reason !== null) listener(this.reason);
    else this.listener = listener;
  }

  revoke(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    const listener = this.listener;
    this.listener = null;
    listener?.(reason);
  }

  release(): void {
    this.listener = null;
    this.forget(this);
  }
}

export class ConsoleRegistry {
  private readonly byToken = new Map<string, Set<Entry>>();
  private count = 0;

  /** Consoles open or opening. */
  get size(): number {
    return this.count;
  }

  track(tokenHash: string): TrackedConsole {
    const entry = new Entry(tokenHash, (done) => {
      const entries = this.byToken.get(done.tokenHash);
      if (!entries?.delete(done)) return;
      this.count -= 1;
      if (entries.size === 0) this.byToken.delete(done.tokenHash);
    });
    let entries = this.byToken.get(tokenHash);
    if (!entries) {
      entries = new Set();
      this.byToken.set(tokenHash, entries);
    }
    entries.add(entry);
    this.count += 1;
    return entry;
  }

  /** Every console of this token learns it is revoked (a token may be open in several tabs). */
  revoke(tokenHash: string, reason: string): number {
    const entries = this.byToken.get(tokenHash);
    if (!entries) return 0;
    for (const entry of [...entries]) entry.revoke(reason);
    return entries.size;
  }
}
