/**
 * The virsh driver's handle on one host's SSH session (from the host SSH library): the same calls,
 * with every failure the library reports turned into this adapter's HypervisorError classes, so
 * nothing above the adapter ever sees an SSH library error.
 * Must never swallow an error: each one is mapped or passed on as it is.
 */
import type { Duplex } from 'node:stream';

import type { ExecOptions, ExecResult, SessionStats, SFTPWrapper, SshSession } from '#libs/host-ssh';

import { hypervisorErrorOf } from './errors.js';

export class HostSession {
  constructor(private readonly session: SshSession) {}

  exec(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    return mapped(() => this.session.exec(argv, options));
  }

  withSftp<T>(what: string, idempotent: boolean, work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return mapped(() => this.session.withSftp(what, idempotent, work));
  }

  forwardOut(address: string, port: number): Promise<Duplex> {
    return mapped(() => this.session.forwardOut(address, port));
  }

  stats(): SessionStats {
    return this.session.stats();
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw hypervisorErrorOf(error);
  }
}
