/**
 * TCP streams to VNC servers on the hypervisor hosts' loopback, through one long-lived SSH session
 * per host (libs/host-ssh: pinned host key, keep-alive, reconnect), opened as direct-tcpip channels:
 * VNC never listens anywhere but the host's loopback, and nothing but SSH reaches it.
 * Must never tunnel to a host the inventory does not name, nor to any address but the host's
 * loopback: the port comes from the store, the address never does.
 */
import type { Duplex } from 'node:stream';

import { type SessionStats, type SshEndpoint, SshSession, type SshSessionOptions } from '#libs/host-ssh';

/** Where QEMU's VNC servers listen on a host (the domain XML the compute agent writes says so). */
export const VNC_ADDRESS = '127.0.0.1';

export interface VncTunnels {
  /** A byte stream to `127.0.0.1:<port>` as `host` sees it. */
  open(host: string, port: number): Promise<Duplex>;
  stats(): Readonly<Record<string, SessionStats>>;
  close(): Promise<void>;
}

/** The token names a host this proxy was not given: a configuration mismatch with the compute agents. */
export class UnknownConsoleHost extends Error {
  override readonly name = 'UnknownConsoleHost';
  constructor(readonly host: string) {
    super(`host ${host} is not in the console proxy's inventory`);
  }
}

export class SshVncTunnels implements VncTunnels {
  private readonly sessions: ReadonlyMap<string, SshSession>;

  /** Sessions connect on first use, so hosts nobody opens a console on cost nothing. */
  constructor(endpoints: readonly SshEndpoint[], options: SshSessionOptions = {}) {
    this.sessions = new Map(endpoints.map((endpoint) => [endpoint.host, new SshSession(endpoint, options)]));
  }

  open(host: string, port: number): Promise<Duplex> {
    const session = this.sessions.get(host);
    if (!session) return Promise.reject(new UnknownConsoleHost(host));
    return session.forwardOut(VNC_ADDRESS, port);
  }

  stats(): Readonly<Record<string, SessionStats>> {
    return Object.fromEntries([...this.sessions].map(([host, session]) => [host, session.stats()]));
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((session) => session.close()));
  }
}
