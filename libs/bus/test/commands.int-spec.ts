/**
 * Request/reply over Nest's NATS transport against a real nats-server: a compute agent's CommandServer
 * answers commands for the hosts it serves, the client helper gets the typed reply, bad payloads and
 * missing caller headers get BadRequest, domain errors keep their code, unexpected ones leak nothing,
 * and a host nobody serves or a slow handler fails fast with a typed error.
 */
import { randomUUID } from 'node:crypto';

import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type ClientNats,
  Ctx,
  EventPattern,
  NatsContext,
  NatsRecordBuilder,
  Payload,
} from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

import {
  AuthorizeConsole,
  BootRequested,
  ConsoleAccess,
  ConsoleOutput,
  GetConsoleOutput,
  build,
  commandSubject,
} from '#libs/contracts';

import {
  type BusEvent,
  Caller,
  CommandFailed,
  CommandHandler,
  CommandServer,
  CommandTimeout,
  NoResponders,
  type ValidatedCaller,
  callerHeaders,
  JetStreamTransport,
  OnEvent,
  createCommandClient,
  sendCommand,
} from '../src/index.js';
import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { sleep } from '../../../test/support/eventually.js';
import { CapturingLogger } from './fixtures.js';

/** A domain error as libs/domain would declare it: a PascalCase code, a message meant for the caller. */
class InstanceNotFound extends Error {
  override readonly name = 'InstanceNotFound';
  readonly code = 'InstanceNotFound';
}

const MISSING = randomUUID();
const CRASHING = randomUUID();
const answered: { subject: string; caller: ValidatedCaller; command: AuthorizeConsole }[] = [];

@Controller()
class ConsoleCommands {
  @CommandHandler(AuthorizeConsole)
  authorize(
    @Payload() command: AuthorizeConsole,
    @Caller() caller: ValidatedCaller,
    @Ctx() context: NatsContext,
  ): ConsoleAccess {
    if (command.instanceId === MISSING)
      throw new InstanceNotFound(`instance ${command.instanceId} not found`);
    if (command.instanceId === CRASHING) throw new Error('cannot read /home/hv-01/.ssh/id_ed25519');
    answered.push({ subject: context.getSubject(), caller, command });
    return build(ConsoleAccess, {
      consoleType: 'novnc',
      url: `https://console.example/vnc_auto.html?token=${randomUUID()}`,
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
  }

  /** A slow agent for the timeout test: here `length` is how many milliseconds it dawdles. */
  @CommandHandler(GetConsoleOutput)
  async output(@Payload() command: GetConsoleOutput): Promise<ConsoleOutput> {
    await sleep(command.length ?? 0);
    return build(ConsoleOutput, { output: 'login: ' });
  }
}

@Module({ controllers: [ConsoleCommands] })
class ComputeCommandsModule {}

let nats: NatsProcess;
let server: CommandServer;
let app: INestMicroservice;
let client: ClientNats;
const logger = new CapturingLogger();

const caller = {
  correlationId: `req-${randomUUID()}`,
  actor: {
    userId: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    projectId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    kind: 'user',
  },
} as const;

const authorize = (instanceId: string, host = 'hv-02'): AuthorizeConsole =>
  build(AuthorizeConsole, { instanceId, host, consoleType: 'novnc' });

beforeAll(async () => {
  nats = await startNatsProcess();
  server = new CommandServer({ url: nats.url, service: 'compute', hosts: ['hv-01', 'hv-02'] });
  app = await NestFactory.createMicroservice(ComputeCommandsModule, { strategy: server, logger });
  await app.listen();
  client = createCommandClient({ url: nats.url, name: 'api:commands' });
  await client.connect();
}, 20_000);

afterAll(async () => {
  await client.close();
  await app.close();
  await nats.stop();
});

/** Sends a raw payload, bypassing the client helper's own validation, and returns the error body. */
async function rawError(payload: object, withCaller = true): Promise<unknown> {
  const builder = new NatsRecordBuilder(payload);
  if (withCaller) builder.setHeaders(callerHeaders(caller));
  return lastValueFrom(client.send(commandSubject(AuthorizeConsole, 'hv-01'), builder.build())).then(
    () => {
      throw new Error('expected an error reply');
    },
    (error: unknown) => error,
  );
}

describe(CommandServer.name, () => {
  it('subscribes compute commands once per host it serves', () => {
    expect([...server.subscribedSubjects()].sort()).toEqual([
      'nimbus.cmd.compute.hv-01.AuthorizeConsole',
      'nimbus.cmd.compute.hv-01.GetConsoleOutput',
      'nimbus.cmd.compute.hv-02.AuthorizeConsole',
      'nimbus.cmd.compute.hv-02.GetConsoleOutput',
    ]);
  });
});

describe(sendCommand.name, () => {
  it('gets the typed reply from the agent serving the host, with the caller carried in headers', async () => {
    const instanceId = randomUUID();
    const reply = await sendCommand(client, authorize(instanceId), { reply: ConsoleAccess, caller });

    expect(reply).toBeInstanceOf(ConsoleAccess);
    expect(reply.consoleType).toBe('novnc');
    const handled = answered.find((entry) => entry.command.instanceId === instanceId);
    expect(handled?.subject).toBe('nimbus.cmd.compute.hv-02.AuthorizeConsole');
    expect(handled?.command).toBeInstanceOf(AuthorizeConsole);
    expect(handled?.caller).toEqual(caller);
  });

  it('answers a payload that breaks the contract with BadRequest naming the property', async () => {
    const error = await rawError({ instanceId: 'not-a-uuid', host: 'hv-01', consoleType: 'novnc' });
    expect(error).toMatchObject({ code: 'BadRequest', message: expect.stringMatching(/instanceId/) });
    expect(JSON.stringify(error)).not.toContain('not-a-uuid');

    const unknown = await rawError({ instanceId: randomUUID(), host: 'hv-01', consoleType: 'novnc', x: 1 });
    expect(unknown).toMatchObject({ code: 'BadRequest', message: expect.stringMatching(/x/) });
  });

  it('answers a request without caller headers with BadRequest', async () => {
    const error = await rawError({ instanceId: randomUUID(), host: 'hv-01', consoleType: 'novnc' }, false);
    expect(error).toMatchObject({ code: 'BadRequest', message: expect.stringMatching(/correlationId/) });
  });

  it('turns a domain error into CommandFailed with its code', async () => {
    const failure = sendCommand(client, authorize(MISSING), { reply: ConsoleAccess, caller });
    await expect(failure).rejects.toBeInstanceOf(CommandFailed);
    await expect(failure).rejects.toMatchObject({ code: 'InstanceNotFound', command: 'AuthorizeConsole' });
  });

  it('reports an unexpected error as Internal without its message, and logs it on the agent', async () => {
    const failure = sendCommand(client, authorize(CRASHING), { reply: ConsoleAccess, caller });
    await expect(failure).rejects.toMatchObject({ code: 'Internal' });
    await expect(failure).rejects.not.toMatchObject({ message: expect.stringMatching(/id_ed25519/) });
    expect(logger.said('error', /AuthorizeConsole failed unexpectedly: Error: cannot read/)).toBe(true);
  });

  it('fails fast with NoResponders for a host no agent serves', async () => {
    const started = Date.now();
    const failure = sendCommand(client, authorize(randomUUID(), 'hv-09'), {
      reply: ConsoleAccess,
      caller,
      timeoutMs: 5_000,
    });
    await expect(failure).rejects.toBeInstanceOf(NoResponders);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('reaches a host the agent took up while listening, and no longer once it let the host go', async () => {
    await server.serveHost('hv-05');
    const instanceId = randomUUID();
    const reply = await sendCommand(client, authorize(instanceId, 'hv-05'), { reply: ConsoleAccess, caller });
    expect(reply).toBeInstanceOf(ConsoleAccess);
    expect(answered.find((entry) => entry.command.instanceId === instanceId)?.subject).toBe(
      'nimbus.cmd.compute.hv-05.AuthorizeConsole',
    );

    await server.stopServingHost('hv-05');
    expect(server.subscribedSubjects().filter((subject) => subject.includes('hv-05'))).toEqual([]);
    await expect(
      sendCommand(client, authorize(randomUUID(), 'hv-05'), {
        reply: ConsoleAccess,
        caller,
        timeoutMs: 5_000,
      }),
    ).rejects.toBeInstanceOf(NoResponders);
    // The hosts it still serves are untouched.
    await expect(
      sendCommand(client, authorize(randomUUID()), { reply: ConsoleAccess, caller }),
    ).resolves.toBeInstanceOf(ConsoleAccess);
  });

  it('gives up with CommandTimeout when the reply does not come in time', async () => {
    const slow = build(GetConsoleOutput, { instanceId: randomUUID(), host: 'hv-01', length: 1_000 });
    const started = Date.now();
    await expect(
      sendCommand(client, slow, { reply: ConsoleOutput, caller, timeoutMs: 200 }),
    ).rejects.toBeInstanceOf(CommandTimeout);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('refuses a reply class the command does not declare, before sending anything', async () => {
    await expect(
      sendCommand(client, authorize(randomUUID()), { reply: ConsoleOutput, caller }),
    ).rejects.toThrow(/not answered by ConsoleOutput/);
  });
});

/** An agent's controller with both kinds of handler, as one app serves them through two transports. */
@Controller()
class AgentHandlers {
  @OnEvent(BootRequested)
  onBootRequested(@Payload() _event: BusEvent<BootRequested>): void {
    // Nothing to do: this test is about which transport binds which handler.
  }

  @CommandHandler(GetConsoleOutput)
  output(): ConsoleOutput {
    return build(ConsoleOutput, { output: '' });
  }
}

@Module({ controllers: [AgentHandlers] })
class AgentModule {}

@Controller()
class BareEventHandler {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-arguments -- see OnEvent's note
  @EventPattern<string>('nimbus.evt.instance.BootRequested')
  onBootRequested(): void {
    // A bare pattern: both transports must refuse to bind it.
  }
}

@Module({ controllers: [BareEventHandler] })
class BareEventModule {}

/**
 * Binding makes a durable consumer, a few JetStream API calls of up to 5 s each when the server is
 * slow: the bound fails a hung transport, not a busy machine.
 */
const BINDING_TIMEOUT_MS = 60_000;

describe('handler binding', () => {
  it(
    'binds @OnEvent to JetStreamTransport and @CommandHandler to CommandServer, each alone',
    async () => {
      const events = new JetStreamTransport({ url: nats.url, service: 'agent' });
      const commands = new CommandServer({ url: nats.url, service: 'agent', hosts: ['hv-03'] });
      const apps = [
        await NestFactory.createMicroservice(AgentModule, { strategy: events, logger }),
        await NestFactory.createMicroservice(AgentModule, { strategy: commands, logger }),
      ];
      try {
        for (const started of apps) await started.listen();
        expect(events.consumerNames()).toEqual(['agent_instance_BootRequested']);
        expect(commands.subscribedSubjects()).toEqual(['nimbus.cmd.compute.hv-03.GetConsoleOutput']);
      } finally {
        for (const started of apps) await started.close();
      }
    },
    BINDING_TIMEOUT_MS,
  );

  it(
    'refuses to start with a bare @EventPattern, on either transport',
    async () => {
      for (const strategy of [
        new JetStreamTransport({ url: nats.url, service: 'bare' }),
        new CommandServer({ url: nats.url, service: 'bare' }),
      ]) {
        const bare = await NestFactory.createMicroservice(BareEventModule, { strategy, logger });
        try {
          await expect(bare.listen()).rejects.toThrow(/@OnEvent\(EventClass\)/);
        } finally {
          await bare.close();
        }
      }
    },
    BINDING_TIMEOUT_MS,
  );
});
