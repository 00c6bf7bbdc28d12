/**
 * Which compute agents are up: the time each host was last heard from, and Nova's rule for it. A
 * host is down only once its last heartbeat is older than `downAfterMs`; a host never heard of is
 * down. The times are fed by HeartbeatBoard, which starts from the heartbeats kept in NATS, so a
 * process that has just started judges a host by its agent's last beat, not by its own silence.
 */
export class HostLiveness {
  private readonly lastHeard = new Map<string, number>();

  constructor(
    readonly downAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a beat of `host` at `atMs` (default: now); an older beat than the one known changes nothing. */
  heard(host: string, atMs: number = this.now()): void {
    const known = this.lastHeard.get(host);
    if (known === undefined || atMs > known) this.lastHeard.set(host, atMs);
  }

  /** When `host` was last heard from, in epoch milliseconds, or null when never. */
  lastHeardAt(host: string): number | null {
    return this.lastHeard.get(host) ?? null;
  }

  isUp(host: string): boolean {
    const heard = this.lastHeard.get(host);
    return heard !== undefined && this.now() - heard <= this.downAfterMs;
  }
}
