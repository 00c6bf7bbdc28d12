/**
 * Runs the console proxy: reads its options, waits until it can see token revocations, listens,
 * and prints one `{"msg":"listening",...}` line (the port users reach, the health port);
 * SIGTERM and SIGINT close every console (1001) and stop it.
 * Must never print a token; its log lines name tokens by a prefix of their hash at most.
 */
import 'reflect-metadata';

import { EXIT_CONFIG, configFromCommandLine } from '#libs/config';
import { InvalidSshArgument } from '#libs/host-ssh';
import { startTracing } from '#libs/telemetry';

import { ConsoleProxyConfig } from './config.js';
import { startConsoleProxy } from './console-proxy.js';
import { jsonLog } from './log.js';

async function main(): Promise<void> {
  const config = configFromCommandLine('console-proxy', ConsoleProxyConfig);
  if (!config) return;
  // Exports spans over OTLP when an endpoint is configured; nothing otherwise.
  await startTracing('nimbus-console-proxy', config);
  const log = jsonLog();
  let proxy: Awaited<ReturnType<typeof startConsoleProxy>>;
  try {
    proxy = await startConsoleProxy(config, log);
  } catch (error) {
    const unusable =
      error instanceof InvalidSshArgument || error instanceof SyntaxError || isMissingFile(error);
    if (!unusable) throw error;
    process.stderr.write(`console-proxy: inventory ${config.inventory}: ${(error as Error).message}\n`);
    process.exit(EXIT_CONFIG);
  }
  process.stdout.write(
    `${JSON.stringify({
      msg: 'listening',
      service: 'console-proxy',
      port: proxy.port,
      healthPort: proxy.healthPort,
      baseUrl: proxy.baseUrl,
      allowedOrigins: proxy.allowedOrigins,
      pid: process.pid,
    })}\n`,
  );
  const stop = (signal: string): void => {
    log('stopping', { signal });
    void proxy.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.once('SIGINT', () => {
    stop('SIGINT');
  });
}

function isMissingFile(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR';
}

main().catch((error: unknown) => {
  process.stderr.write(`console-proxy: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
