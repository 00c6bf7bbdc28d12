/**
 * Nest's NATS transport (ServerNats), configured the Nimbus way, for the request/reply side: a named
 * connection that reconnects forever, a queue group per service so one replica answers each request, and
 * compute command patterns (`nimbus.cmd.compute.*.<Name>`) subscribed once per host this agent serves,
 * so a request reaches exactly the agent that owns the host.
 * Must never subscribe event subjects (a core subscription bypasses JetStream's acks: use @OnEvent), and
 * never subscribe a compute pattern as a wildcard.
 */
import { ServerNats } from '@nestjs/microservices';
import type { MsgCallback, Msg, NatsConnection, Subscription } from '@nats-io/transport-node';

import { commandSubject } from '#libs/contracts';

import { connectionOptions } from '../connection/connect.js';
import { parseComputePattern } from './command-handler.decorator.js';

export interface CommandServerOptions {
  /** `NATS_URL`. */
  readonly url: string;
  /** `NATS_CREDS`, for a server in operator mode. */
  readonly credsFile?: string;
  /** The service answering (`compute`, `scheduler`): the queue group its replicas share. */
  readonly service: string;
  /** The connection name (default `<service>:commands`). */
  readonly connectionName?: string;
  /** The hosts this compute agent serves; required when any compute command handler exists. */
  readonly hosts?: readonly string[];
}

export class CommandServer extends ServerNats {
  private readonly hosts: readonly string[];
  private readonly queue: string;
  private readonly commandSubscriptions: Subscription[] = [];

  constructor(options: CommandServerOptions) {
    super({
      ...connectionOptions({
        url: options.url,
        name: options.connectionName ?? `${options.service}:commands`,
        credsFile: options.credsFile,
      }),
      queue: options.service,
    });
    this.hosts = options.hosts ?? [];
    this.queue = options.service;
  }

  /** The subjects this server subscribes, once listening (for operators and tests). */
  subscribedSubjects(): readonly string[] {
    return this.commandSubscriptions.map((subscription) => subscription.getSubject());
  }

  override bindEvents(client: NatsConnection): void {
    for (const [pattern, handler] of this.getHandlers()) {
      if (handler.isEventHandler === true) {
        throw new Error(
          `${pattern} is an event handler on the NATS request/reply transport; declare it with ` +
            '@OnEvent(EventClass) so JetStream delivers it durably',
        );
      }
      // Nest's handler looks the pattern up by the channel it is given: the pattern, not the subject.
      const callback = this.getMessageHandler(pattern).bind(this) as MsgCallback<Msg>;
      for (const subject of this.subjectsOf(pattern)) {
        this.commandSubscriptions.push(client.subscribe(subject, { queue: this.queue, callback }));
      }
    }
  }

  override async close(): Promise<void> {
    this.commandSubscriptions.length = 0;
    await super.close();
  }

  private subjectsOf(pattern: string): readonly string[] {
    const compute = parseComputePattern(pattern);
    if (compute === null) return [pattern];
    if (this.hosts.length === 0) {
      throw new Error(`${pattern} needs the hosts this agent serves: pass hosts to CommandServer`);
    }
    return this.hosts.map((host) => commandSubject(compute.name, host));
  }
}
