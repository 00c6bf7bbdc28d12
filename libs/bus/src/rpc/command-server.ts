/**
 * Nest's NATS transport (ServerNats), configured the Nimbus way, for the request/reply side: a named
 * connection that reconnects forever, a queue group per service so one replica answers each request, and
 * compute command patterns (`nimbus.cmd.compute.*.<Name>`) subscribed once per host this agent serves,
 * so a request reaches exactly the agent that owns the host. An agent that serves hosts by lease adds a
 * host when it takes the lease (`serveHost`) and drops it when it loses it (`stopServingHost`).
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
  /** The hosts this compute agent serves from the start; more come and go with `serveHost`. */
  readonly hosts?: readonly string[];
}

export class CommandServer extends ServerNats {
  private readonly hosts: Set<string>;
  private readonly queue: string;
  /** Per host (or '' for patterns that name none), the subscriptions made for it. */
  private readonly commandSubscriptions = new Map<string, Subscription[]>();
  private connection: NatsConnection | null = null;

  constructor(options: CommandServerOptions) {
    super({
      ...connectionOptions({
        url: options.url,
        name: options.connectionName ?? `${options.service}:commands`,
        credsFile: options.credsFile,
      }),
      queue: options.service,
    });
    this.hosts = new Set(options.hosts ?? []);
    this.queue = options.service;
  }

  /** The subjects this server subscribes, once listening (for operators and tests). */
  subscribedSubjects(): readonly string[] {
    return [...this.commandSubscriptions.values()].flat().map((subscription) => subscription.getSubject());
  }

  /**
   * Answers the compute commands addressed to `host` from now on (at once, or when listening starts);
   * resolves once the server has the subscriptions.
   */
  async serveHost(host: string): Promise<void> {
    if (this.hosts.has(host)) return;
    this.hosts.add(host);
    if (!this.connection) return;
    this.subscribeHost(this.connection, host);
    await this.connection.flush();
  }

  /**
   * Answers no more compute commands addressed to `host`; resolves once the server has dropped the
   * subscriptions, so a request sent after that finds the host's new owner or no responder.
   */
  async stopServingHost(host: string): Promise<void> {
    this.hosts.delete(host);
    for (const subscription of this.commandSubscriptions.get(host) ?? []) subscription.unsubscribe();
    this.commandSubscriptions.delete(host);
    await this.connection?.flush();
  }

  override bindEvents(client: NatsConnection): void {
    for (const [pattern, handler] of this.getHandlers()) {
      if (handler.isEventHandler === true) {
        throw new Error(
          `${pattern} is an event handler on the NATS request/reply transport; declare it with ` +
            '@OnEvent(EventClass) so JetStream delivers it durably',
        );
      }
      if (parseComputePattern(pattern) === null) this.subscribe(client, '', pattern, pattern);
    }
    this.connection = client;
    for (const host of this.hosts) this.subscribeHost(client, host);
  }

  override async close(): Promise<void> {
    this.commandSubscriptions.clear();
    this.connection = null;
    await super.close();
  }

  /** Each compute command pattern, for one host. */
  private subscribeHost(client: NatsConnection, host: string): void {
    for (const pattern of this.getHandlers().keys()) {
      const compute = parseComputePattern(pattern);
      if (compute !== null) this.subscribe(client, host, pattern, commandSubject(compute.name, host));
    }
  }

  private subscribe(client: NatsConnection, host: string, pattern: string, subject: string): void {
    // Nest's handler looks the pattern up by the channel it is given: the pattern, not the subject.
    const callback = this.getMessageHandler(pattern).bind(this) as MsgCallback<Msg>;
    const subscriptions = this.commandSubscriptions.get(host) ?? [];
    subscriptions.push(client.subscribe(subject, { queue: this.queue, callback }));
    this.commandSubscriptions.set(host, subscriptions);
  }
}
