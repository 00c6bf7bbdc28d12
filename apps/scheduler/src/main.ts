/**
 * Runs the scheduler: the cluster view and the placement service, fed by durable JetStream
 * consumers (the fast path) and a reconciler (the safety net), the relay from the store to
 * JetStream, and a health endpoint (loopback by default). Prints one `listening` line when it is scheduling.
 */
import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { JetStreamTransport } from '#libs/bus';
import { configFromCommandLine } from '#libs/config';
import { startTracing } from '#libs/telemetry';

import { SchedulerConfig } from './config.js';
import { SchedulerModule } from './scheduler.module.js';

async function main(): Promise<void> {
  const config = configFromCommandLine('scheduler', SchedulerConfig);
  if (!config) return;
  // Exports spans over OTLP when an endpoint is configured; nothing otherwise.
  await startTracing('nimbus-scheduler', config);

  const app = await NestFactory.create<NestFastifyApplication>(
    SchedulerModule.forRoot(config),
    new FastifyAdapter(),
    {
      bufferLogs: false,
    },
  );
  app.enableShutdownHooks();
  app.connectMicroservice(
    {
      strategy: new JetStreamTransport({
        url: config.natsUrl,
        credsFile: config.natsCreds,
        service: 'scheduler',
        streamLimits: { replicas: config.jetstreamReplicas },
        // Handlers serialise per instance and fold before acting, so different instances can go side by side.
        consumer: { concurrency: 16 },
      }),
    },
    { inheritAppConfig: true },
  );
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.healthPort, config.healthHost);
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
