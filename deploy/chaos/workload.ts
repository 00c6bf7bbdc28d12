/**
 * The chaos run's workload: boots, stops, starts, reboots, deletes and console requests of m1.nano
 * servers through the compute API, each recorded with when it was issued, what was asked, the
 * HTTP status (0 when no reply came) and the server it concerned. It acts only on servers it
 * booted itself; a deleted server leaves its list at once, whatever the reply.
 */
import { createHash } from 'node:crypto';

import type { OpenStackHttp, Reply } from '../clients/openstack-http.js';
import type { OperationRecord } from './checker.js';
import type { PlannedOperation } from './schedule.js';

/** The flavor every boot asks for (m1.nano: 1 vCPU, 64 MiB). */
const FLAVOR = '0';

export class Workload {
  readonly history: OperationRecord[] = [];
  /** Servers booted and not deleted, in the order they were booted. */
  private readonly live: string[] = [];
  /** Those of them whose last accepted power request was a stop. */
  private readonly stopped = new Set<string>();
  /** Planned operations that found no server to act on. */
  skipped = 0;

  constructor(
    private readonly os: OpenStackHttp,
    private readonly imageRef: string,
    private readonly seed: number,
    private readonly clock: () => number,
  ) {}

  /** The seeded boot image's id, which every boot uses. */
  static async bootImage(os: OpenStackHttp): Promise<string> {
    const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
    const image = images.body.images[0];
    if (images.status !== 200 || !image) throw new Error(`no nimbus-boot image (HTTP ${images.status})`);
    return image.id;
  }

  async perform(round: number, planned: PlannedOperation): Promise<void> {
    const seq = this.history.length + this.skipped + 1;
    if (planned.kind === 'boot') {
      const name = `chaos-${this.seed}-${seq}`;
      const body = { server: { name, imageRef: this.imageRef, flavorRef: FLAVOR, networks: 'none' } };
      await this.send(round, planned, 'POST', '/servers', body, null, name, (reply) => {
        const id = (reply.body as { server?: { id?: string } }).server?.id ?? null;
        if (reply.status === 202 && id !== null) this.live.push(id);
        return id;
      });
      return;
    }
    // A start goes to a stopped server and the rest to running ones where there are any, so that
    // fewer requests are refused for the state their server is in.
    const wanted = this.live.filter((id) => this.stopped.has(id) === (planned.kind === 'start'));
    const candidates = planned.kind === 'delete' || wanted.length === 0 ? this.live : wanted;
    const serverId = candidates[Math.floor(planned.pick * candidates.length)];
    if (serverId === undefined) {
      this.skipped += 1;
      return;
    }
    const action = (body: unknown) =>
      this.send(round, planned, 'POST', `/servers/${serverId}/action`, body, serverId, null, (reply) => {
        if (reply.status === 202 && planned.kind === 'stop') this.stopped.add(serverId);
        if (reply.status === 202 && planned.kind !== 'stop') this.stopped.delete(serverId);
        return serverId;
      });
    switch (planned.kind) {
      case 'delete':
        this.live.splice(this.live.indexOf(serverId), 1);
        this.stopped.delete(serverId);
        await this.send(round, planned, 'DELETE', `/servers/${serverId}`, undefined, serverId, null);
        return;
      case 'stop':
        await action({ 'os-stop': null });
        return;
      case 'start':
        await action({ 'os-start': null });
        return;
      case 'reboot':
        await action({ reboot: { type: planned.rebootType } });
        return;
      case 'console':
        await this.send(
          round,
          planned,
          'POST',
          `/servers/${serverId}/remote-consoles`,
          { remote_console: { protocol: 'vnc', type: 'novnc' } },
          serverId,
          null,
        );
        return;
    }
  }

  private async send(
    round: number,
    planned: PlannedOperation,
    method: string,
    path: string,
    body: unknown,
    serverId: string | null,
    serverName: string | null,
    idOf: (reply: Reply) => string | null = () => serverId,
  ): Promise<void> {
    const seq = this.history.length + this.skipped + 1;
    const atMs = this.clock();
    // Recorded before the request goes out, so the history keeps the order of issue.
    const index = this.history.push({
      seq,
      round,
      atMs,
      repliedAtMs: null,
      kind: planned.kind,
      method,
      path,
      status: 0,
      serverId,
      serverName,
      requestId: null,
      tokenHash: null,
      error: null,
    });
    let outcome: Partial<OperationRecord>;
    try {
      const reply = await this.os.compute(method, path, body);
      outcome = {
        status: reply.status,
        serverId: idOf(reply),
        requestId: reply.headers.get('x-openstack-request-id'),
        tokenHash: reply.status === 200 ? consoleTokenHash(reply.body) : null,
      };
    } catch (error) {
      outcome = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    const record = this.history[index - 1];
    if (record) this.history[index - 1] = { ...record, ...outcome, repliedAtMs: this.clock() };
  }
}

/** The SHA-256 of the token in a console URL (`...?path=%3Ftoken%3D<token>`); the token itself is never kept. */
function consoleTokenHash(body: Record<string, unknown>): string | null {
  const url = (body as { remote_console?: { url?: string } }).remote_console?.url;
  if (url === undefined) return null;
  const path = new URL(url).searchParams.get('path') ?? '';
  const token = new URLSearchParams(path.replace(/^\?/, '')).get('token');
  return token === null ? null : createHash('sha256').update(token).digest('hex');
}
