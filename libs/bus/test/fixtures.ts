/** Real contract events and envelopes for the bus's tests, built from the contracts' own samples. */
import { randomUUID } from 'node:crypto';

import type { EventStoreDBClient } from '@eventstore/db-client';
import type { LoggerService } from '@nestjs/common';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';

import {
  BootRequested,
  HostRegistered,
  StopRequested,
  build,
  decodeEvent,
  encodeEvent,
  streamOf,
} from '#libs/contracts';
import type { EventContext, StoredEvent } from '#libs/event-store';

import { encodeEventMessageBody, toEventMessage } from '../src/index.js';

export const userContext = (): EventContext => ({
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: {
    userId: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    projectId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    kind: 'user',
  },
});

export const serviceContext = (): EventContext => ({
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: { userId: 'compute', projectId: null, kind: 'service' },
});

export function bootRequested(instanceId: string = randomUUID(), name = 'web-1'): BootRequested {
  return build(BootRequested, {
    instanceId,
    projectId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    userId: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    name,
    flavor: { id: '2', name: 'm1.small', vcpus: 1, ramMb: 2048, diskGb: 20 },
    image: {
      id: 'c2a6f1e4-3b7d-4e8a-9f0c-1d2e3f4a5b6c',
      name: 'cirros-0.6.2-x86_64-disk',
      properties: { architecture: 'x86_64', hypervisorType: 'qemu' },
    },
    metadata: { role: 'web' },
    requestedNetworks: 'auto',
  });
}

export function stopRequested(instanceId: string): StopRequested {
  return build(StopRequested, { instanceId });
}

export function hostRegistered(host: string): HostRegistered {
  return build(HostRegistered, { host, availabilityZone: 'az-1', hypervisorType: 'qemu', cpuArch: 'x86_64' });
}

/**
 * Disposes an event-store client, waiting at most `ms`. With @eventstore/db-client 6.2.1 against the
 * embedded server, dispose() can wait forever on a stream it cancelled when a subscription was stopped
 * while runSubscription's caught-up checkpoint write was in flight; the server is stopped next anyway.
 */
export async function disposeEventStoreClient(client: EventStoreDBClient, ms = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.dispose(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

let nextPosition = 1n;

/** An event as the relay would read it from `$all`: encoded, decoded back, with a place in the store. */
export function storedEvent<E extends object>(
  event: E,
  context: EventContext = userContext(),
  revision = 0n,
): StoredEvent<E> {
  const encoded = encodeEvent(event, { ...context, occurredAt: new Date().toISOString() });
  const decoded = decodeEvent(encoded);
  const position = nextPosition;
  nextPosition += 1n;
  return {
    type: decoded.type,
    // decodeEvent made an instance of the event's own class, so it is an E.
    data: decoded.data as E,
    metadata: decoded.metadata,
    stream: streamOf(event),
    revision,
    position: { commit: position, prepare: position },
  };
}

/** Publishes a stored event exactly as the relay does. */
export function publishStored(js: JetStreamClient, stored: StoredEvent): Promise<PubAck> {
  const message = toEventMessage(stored);
  const messageHeaders = headers();
  for (const [key, value] of Object.entries(message.headers)) messageHeaders.set(key, value);
  return js.publish(message.subject, encodeEventMessageBody(message.body), {
    msgID: message.messageId,
    headers: messageHeaders,
  });
}

/** A Nest logger that keeps what it is told, so tests can assert that something was said loudly. */
export class CapturingLogger implements LoggerService {
  readonly lines: { readonly level: string; readonly message: string }[] = [];

  log(message: unknown): void {
    this.keep('log', message);
  }

  error(message: unknown): void {
    this.keep('error', message);
  }

  warn(message: unknown): void {
    this.keep('warn', message);
  }

  debug(message: unknown): void {
    this.keep('debug', message);
  }

  verbose(message: unknown): void {
    this.keep('verbose', message);
  }

  said(level: string, pattern: RegExp): boolean {
    return this.lines.some((line) => line.level === level && pattern.test(line.message));
  }

  private keep(level: string, message: unknown): void {
    this.lines.push({
      level,
      message: message instanceof Error ? (message.stack ?? message.message) : String(message),
    });
  }
}
