/**
 * Runs a compute agent: it serves the hypervisor hosts of its inventory over SSH, acts on instance
 * events from JetStream, answers console commands over NATS request/reply, reconciles what the bus
 * missed, syncs power states, and exposes a loopback health endpoint. Prints one `listening` line
 * once its hosts are registered and it is consuming.
 */
import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { CommandServer, JetStreamTransport } from '#libs/bus';
import { configFromCommandLine } from '#libs/config';
import { startTracing } from '#libs/telemetry';

import { ComputeModule, hypervisorFrom } from './compute.module.js';
import { ComputeConfig } from './config.js';

async function main(): Promise<void> {
  const config = configFromCommandLine('compute', ComputeConfig);
  if (!config) return;
  // Exports spans over OTLP when an endpoint is configured; nothing otherwise.
  await startTracing('nimbus-compute', config);
  const hypervisor = hypervisorFrom(config);
  const hosts = hypervisor.hosts.map((host) => host.name);

  const app = await NestFactory.create<NestFastifyApplication>(
    ComputeModule.forRoot(config, hypervisor),
    new FastifyAdapter(),
  );
  app.enableShutdownHooks();
  app.connectMicroservice(
    {
      strategy: new JetStreamTransport({
        url: config.natsUrl,
        credsFile: config.natsCreds,
        service: 'compute',
        // Handlers serialise per instance and fold before acting, so different instances can go side by side.
        consumer: { concurrency: 16 },
      }),
    },
    { inheritAppConfig: true },
  );
  app.connectMicroservice(
    {
      strategy: new CommandServer({
        url: config.natsUrl,
        credsFile: config.natsCreds,
        service: 'compute',
        hosts,
      }),
    },
    { inheritAppConfig: true },
  );
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.healthPort, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.healthPort;
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', service: 'compute', port, hosts, pid: process.pid })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`compute: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
