/**
 * The servers API's writes: boot (admitted by ServerAdmission, then one BootRequested per server decided
 * by the domain and appended), update, delete and the lifecycle actions, each on a server the caller may
 * see (ServerReads) and appended at the revision folded; each waits until the projection shows it.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import type { Position } from '@eventstore/db-client';

import { ServerUpdated, build, streamFor } from '#libs/contracts';
import { decideBoot, decideDelete, decideUpdate } from '#libs/domain';
import { EventStore } from '#libs/event-store';

import type { CallContext } from '../../common/http/context.decorator.js';
import { eventContextOf } from '../../common/http/request-state.js';
import { truthy } from '../../common/validation/parameter-types.js';
import { ServerProjection } from './projection/server-projection.js';
import { ServerAdmission } from './server-admission.js';
import { ServerReads } from './server-reads.js';
import { type ServerRecord, serverRecordReducer } from './server-record.js';
import type { CreateServerBody, UpdateServerBody } from './servers.schemas.js';
import { reservationIdOf } from './server.view.js';

const PASSWORD_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export interface CreatedServer {
  readonly id: string;
  readonly adminPass: string;
  readonly reservationId: string;
  readonly diskConfig: 'AUTO' | 'MANUAL';
  readonly securityGroups: readonly { readonly name: string }[];
  readonly returnReservationId: boolean;
}

function generatePassword(): string {
  const bytes = randomBytes(12);
  return [...bytes].map((byte) => PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length]).join('');
}

@Injectable()
export class ServersService {
  constructor(
    private readonly store: EventStore,
    private readonly projection: ServerProjection,
    private readonly admission: ServerAdmission,
    private readonly reads: ServerReads,
  ) {}

  async create(context: CallContext, body: CreateServerBody): Promise<CreatedServer> {
    const request = body.server;
    const admitted = await this.admission.admit(context, body);
    const { description } = admitted;
    const eventContext = eventContextOf(context.principal, context.requestId);
    const ids: string[] = [];
    let last: Position | undefined;
    for (let index = 0; index < admitted.count; index += 1) {
      const instanceId = randomUUID();
      const command = admitted.bootCommand(instanceId, index);
      const { appended } = await this.store.execute(
        streamFor('instance', instanceId),
        serverRecordReducer,
        (record) => [
          ...decideBoot(record.instance, command),
          ...(description === null ? [] : [build(ServerUpdated, { instanceId, description })]),
        ],
        eventContext,
      );
      last = appended?.position;
      ids.push(instanceId);
    }
    await this.projection.waitFor(last);
    const [first] = ids;
    if (first === undefined) throw new Error('no server was created');
    return {
      id: first,
      adminPass: generatePassword(),
      reservationId: reservationIdOf(context.requestId),
      diskConfig: request['OS-DCF:diskConfig'] ?? 'MANUAL',
      securityGroups: request.security_groups?.flatMap((group) =>
        group.name ? [{ name: group.name }] : [],
      ) ?? [{ name: 'default' }],
      returnReservationId: truthy(request.return_reservation_id),
    };
  }

  async update(context: CallContext, serverId: string, body: UpdateServerBody): Promise<ServerRecord> {
    const changes = {
      ...(body.server.name === undefined ? {} : { name: body.server.name }),
      ...(body.server.description === undefined ? {} : { description: body.server.description }),
    };
    const id = await this.act(context, serverId, (record, instanceId) =>
      decideUpdate(record.instance, instanceId, changes),
    );
    return this.reads.load(context, id);
  }

  async delete(context: CallContext, serverId: string): Promise<void> {
    await this.act(context, serverId, (record, instanceId) => decideDelete(record.instance, instanceId));
  }

  /**
   * Runs a decision on a server the caller may see, appended at the revision it was decided on, and waits
   * for the projection to show its effect; the server's id as stored.
   */
  async act<E extends object>(
    context: CallContext,
    serverId: string,
    decide: (record: ServerRecord, instanceId: string) => E[],
  ): Promise<string> {
    const current = await this.reads.load(context, serverId);
    const id = current.instance.id;
    const { appended } = await this.store.execute(
      streamFor('instance', id),
      serverRecordReducer,
      (record) => decide(record, id),
      eventContextOf(context.principal, context.requestId),
    );
    await this.projection.waitFor(appended?.position);
    return id;
  }
}
