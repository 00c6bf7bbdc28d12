/**
 * Runs a compute agent: it serves the hypervisor hosts of its inventory over SSH, acts on instance
 * events from JetStream, answers console commands over NATS request/reply, reconciles what the bus
 * missed, syncs power states, and exposes a health endpoint (loopback by default). Prints one `listening` line
 * once it is consuming and has taken (and registered) the hosts no other agent holds.
 */
import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

import { CommandServer, JetStreamTransport } from '#libs/bus';
import { configFromCommandLine } from '#libs/config';
import { startTracing } from '#libs/telemetry';

import { ComputeModule, hypervisorFrom } from './compute.module.js';
import { ComputeRuntime } from './compute.runtime.js';
import { ComputeConfig } from './config.js';

async function main(): Promise<void> {
  const config = configFromCommandLine('compute', ComputeConfig);
  if (!config) return;
  // Exports spans over OTLP when an endpoint is configured; nothing otherwise.
  await startTracing('nimbus-compute', config);
  const hypervisor = hypervisorFrom(config);

  // Hosts are added to the command server as their leases are taken (and dropped as they are lost).
  const commands = new CommandServer({
    url: config.natsUrl,
    credsFile: config.natsCreds,
    service: 'compute',
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    ComputeModule.forRoot(config, hypervisor, commands),
    new FastifyAdapter(),
  );
  app.enableShutdownHooks();
  app.connectMicroservice(
    {
      strategy: new JetStreamTransport({
        url: config.natsUrl,
        credsFile: config.natsCreds,
        // Each agent has consumers of its own: every agent sees every event and acts on its hosts'.
        service: config.agentId,
        streamLimits: { replicas: config.jetstreamReplicas },
        // Handlers serialise per instance and fold before acting, so different instances can go side by side.
        consumer: { concurrency: 16 },
      }),
    },
    { inheritAppConfig: true },
  );
  app.connectMicroservice({ strategy: commands }, { inheritAppConfig: true });
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.healthPort, config.healthHost);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.healthPort;
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', service: 'compute', agent: config.agentId, port, hosts: app.get(ComputeRuntime).status().hosts, pid: process.pid })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`compute: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
