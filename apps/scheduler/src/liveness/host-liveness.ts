/**
 * Which compute agents are alive: the time of each host's last heartbeat on NATS. A host whose
 * agent has not been heard from for `timeoutMs` is down for the ComputeFilter. Ephemeral on
 * purpose: liveness is not a fact, so it never goes to the store.
 */
export class HostLiveness {
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  heard(host: string): void {
    this.lastSeen.set(host, this.now());
  }

  isAlive(host: string): boolean {
    const seen = this.lastSeen.get(host);
    return seen !== undefined && this.now() - seen <= this.timeoutMs;
  }
}
