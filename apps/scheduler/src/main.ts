/**
 * Runs the scheduler: the cluster view and the placement service, fed by durable JetStream
 * consumers (the fast path) and a reconciler (the safety net), the relay from the store to
 * JetStream, and a loopback health endpoint. Prints one `listening` line when it is scheduling.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { JetStreamTransport } from '#libs/bus';
import { ConfigError, describeConfig, loadConfig } from '#libs/config';

import { SCHEDULER_OPTIONS, SchedulerConfig } from './config.js';
import { SchedulerModule } from './scheduler.module.js';

const EXIT_CONFIG = 78;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: 'boolean' } }, strict: true });
  if (values.help) {
    process.stdout.write(
      `${describeConfig('nimbus scheduler; options (environment):', SCHEDULER_OPTIONS)}\n`,
    );
    return;
  }
  let config: SchedulerConfig;
  try {
    config = loadConfig(SchedulerConfig, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`scheduler: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }

  const app = await NestFactory.create<NestFastifyApplication>(
    SchedulerModule.forRoot(config),
    new FastifyAdapter(),
    {
      bufferLogs: false,
    },
  );
  app.enableShutdownHooks();
  app.connectMicroservice(
    { strategy: new JetStreamTransport({ url: config.natsUrl, service: 'scheduler' }) },
    { inheritAppConfig: true },
  );
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.healthPort, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.healthPort;
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', service: 'scheduler', port, pid: process.pid })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`scheduler: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
