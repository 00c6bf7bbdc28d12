/**
 * A named stand-in for the compute agent, for tests only: it answers console requests from memory and
 * records what it was asked, so tests can check that the API addressed the right host. Never wired in
 * main.ts.
 */
import { ComputeUnavailable, type ComputeRpc, type HostLiveness, type RpcCaller } from '../ports.js';

export interface ConsoleCall {
  readonly kind: 'output' | 'console';
  readonly instanceId: string;
  readonly host: string;
  readonly detail: number | null | string;
}

export class FakeComputeRpc implements ComputeRpc {
  readonly calls: ConsoleCall[] = [];
  /** Hosts whose agent does not answer. */
  readonly unreachable = new Set<string>();
  consoleLog = 'SeaBIOS (version 1.16.2)\nBooting from Hard Disk...\nNimbus boot sector: hello\n';

  consoleOutput(
    instanceId: string,
    host: string,
    length: number | null,
    _caller?: RpcCaller,
  ): Promise<string> {
    this.calls.push({ kind: 'output', instanceId, host, detail: length });
    if (this.unreachable.has(host))
      return Promise.reject(new ComputeUnavailable(host, `no agent for ${host}`));
    const lines = this.consoleLog.split('\n');
    return Promise.resolve(length === null ? this.consoleLog : lines.slice(-length - 1).join('\n'));
  }

  authorizeConsole(instanceId: string, host: string, type: 'novnc', _caller?: RpcCaller): Promise<string> {
    this.calls.push({ kind: 'console', instanceId, host, detail: type });
    if (this.unreachable.has(host))
      return Promise.reject(new ComputeUnavailable(host, `no agent for ${host}`));
    return Promise.resolve(`http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3Dfake-${instanceId}`);
  }
}

/** Host liveness for tests: a host is up while the test says so. */
export class FakeHostLiveness implements HostLiveness {
  readonly up = new Set<string>();

  isUp(host: string): boolean {
    return this.up.has(host);
  }
}
