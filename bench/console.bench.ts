/**
 * `npm run bench:console`: what the console proxy costs between a WebSocket client (the browser's
 * place) and a TCP echo peer (the VNC server's place), side by side with Debian's `websockify`, on
 * the same data, in the same run, on the same machine.
 *
 * Paths measured (each its own process, started by this run):
 *  - proxy, direct:   WebSocket -> the proxy's listener, upgrade path and bridge -> plain TCP -> echo
 *                     (bench/console-proxy-direct.ts: token check stubbed, no store, no SSH)
 *  - websockify:      WebSocket -> `websockify 127.0.0.1:<p> 127.0.0.1:<echo>` -> plain TCP -> echo
 *  - proxy, via SSH:  the production proxy (dist/apps/console-proxy), its token checked in the
 *                     embedded event store, tunnelled through a rig host's sshd (ssh2 direct-tcpip)
 *  - websockify, via OpenSSH -L: websockify -> `ssh -L` through the same sshd -> echo
 * The first two are the like-for-like comparison and give the JSON's headline keys; the SSH rows
 * (root only: they need the rig) show the production path, and the same SSH hop for websockify.
 *
 * Throughput: THROUGHPUT_MIB MiB in MESSAGE_KIB KiB binary messages, echoed back, at most WINDOW_MIB
 * MiB in flight; MB/s = 10^6 bytes of payload per second, each byte having gone both ways.
 * CPU ms per MB: the CPU time (user + system, from /proc) of the path's own processes (the proxy;
 * websockify and its per-connection child; plus the ssh client on websockify's SSH row; never the
 * shared sshd, the client or the echo peer) per MB of that throughput run: a figure a busy machine
 * disturbs far less than MB/s.
 * Added latency: the median round trip of one LATENCY_BYTES-byte message at a time through the
 * path, minus the median round trip of the same message sent straight to the echo peer over TCP.
 * ROUNDS rounds, the targets in a rotating order, a fresh connection per round; medians reported.
 * Prints a table and, last, one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { EventStoreDBClient } from '@eventstore/db-client';
import { WebSocket } from 'ws';

import { ConsoleAuthorized, build, streamFor } from '#libs/contracts';
import { EventStore } from '#libs/event-store';

import { createRig, destroyRig, rigPaths, type RigInventory } from '../deploy/rig/rig.js';
import { startEventStoreProcess } from '../test/support/event-store-process.js';
import { sleep } from '../test/support/eventually.js';
import { type ManagedProcess, listeningPort, startManagedProcess } from '../test/support/managed-process.js';
import { startApp } from '../test/support/system.js';
import { median, round } from './support.js';

const ROUNDS = 7;
const THROUGHPUT_MIB = 64;
const MESSAGE_KIB = 64;
const WINDOW_MIB = 4;
const LATENCY_SAMPLES = 1_000;
const LATENCY_BYTES = 32;
const WARMUP_MIB = 64;

interface Target {
  readonly name: string;
  readonly url: string;
  readonly origin?: string;
  readonly key: 'proxy' | 'websockify' | 'proxySsh' | 'websockifySsh';
  /** The processes that carry this path (their descendants too): whose CPU time is counted. */
  readonly pids: readonly number[];
}

interface Figures {
  readonly mbps: number[];
  readonly rttMs: number[];
  /** CPU time the path's processes spent per MB of throughput payload. */
  readonly cpuMsPerMb: number[];
}

/** USER_HZ: what /proc counts CPU time in, 100 on every mainstream Linux. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) of `roots` and all their descendants, in ms, from /proc. */
function cpuMsOf(roots: readonly number[]): number {
  const stats = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // Fields after the command (which may hold spaces) start at its closing parenthesis.
        const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
        return [
          { pid: Number(entry), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) },
        ];
      } catch {
        return []; // gone between the listing and the read
      }
    });
  const counted = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const stat of stats) {
      if (!counted.has(stat.pid) && counted.has(stat.ppid)) {
        counted.add(stat.pid);
        grew = true;
      }
    }
  }
  const ticks = stats.filter((stat) => counted.has(stat.pid)).reduce((sum, stat) => sum + stat.ticks, 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

const cleanups: (() => Promise<void>)[] = [];

/** The VNC server's stand-in: echoes every byte, Nagle off. */
async function startEcho(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await sleep(50);
  }
}

/** A child process this run owns, stopped by its pid at the end. */
function own(command: string, args: readonly string[]) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-2_000);
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  cleanups.push(async () => {
    if (!running()) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(3_000)]);
    if (running()) child.kill('SIGKILL');
  });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null && errors) process.stderr.write(`${command}: ${errors}\n`);
  });
  return child;
}

async function startWebsockify(targetPort: number): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child = own('/usr/bin/websockify', [`127.0.0.1:${port}`, `127.0.0.1:${targetPort}`]);
  await waitForPort(port, child, 'websockify');
  return { url: `ws://127.0.0.1:${port}/`, pid: child.pid ?? -1 };
}

async function startDirectProxy(targetPort: number): Promise<ManagedProcess> {
  const proxy = await startManagedProcess({
    name: 'console-proxy-direct',
    argv: () => [
      process.execPath,
      join(process.cwd(), 'dist/bench/console-proxy-direct.js'),
      String(targetPort),
    ],
    ready: listeningPort,
  });
  cleanups.push(() => proxy.stop());
  return proxy;
}

/** The production path: store, token, rig sshd. Returns the proxy's URL with a token for the echo peer. */
async function startSshPaths(echoPort: number): Promise<Target[]> {
  const stateDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-console-'));
  cleanups.push(async () => {
    await destroyRig(stateDir, { removeUsers: true });
    rmSync(stateDir, { recursive: true, force: true });
  });
  const rig: RigInventory = await createRig({
    stateDir,
    hosts: 1,
    namePrefix: `bc${randomUUID().slice(0, 6)}`,
  });
  const host = rig.hosts[0]!;
  const store = await startEventStoreProcess();
  cleanups.push(() => store.stop());
  const client = EventStoreDBClient.connectionString(store.connectionString);
  cleanups.push(() => client.dispose());
  const token = randomBytes(32).toString('base64url');
  const tokenHash = createHash('sha256').update(token).digest('hex');
  await new EventStore(client).append(
    streamFor('console', tokenHash),
    [
      build(ConsoleAuthorized, {
        tokenHash,
        instanceId: randomUUID(),
        projectId: 'bench',
        host: host.name,
        port: echoPort,
        consoleType: 'novnc',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    ],
    'no_stream',
    {
      correlationId: `req-${randomUUID()}`,
      causationId: null,
      actor: { userId: 'bench', projectId: null, kind: 'service' },
    },
  );
  const proxy = await startApp('console-proxy', {
    EVENTSTORE_URL: store.connectionString,
    NIMBUS_CONSOLE_PORT: '0',
    NIMBUS_CONSOLE_INVENTORY: join(stateDir, 'inventory.json'),
    NIMBUS_CONSOLE_BASE_URL: '',
    NIMBUS_CONSOLE_ALLOWED_ORIGINS: '',
  });
  cleanups.push(() => proxy.stop());

  // websockify's way through the same sshd: OpenSSH's own client forwarding a local port.
  const forwardPort = await freePort();
  const ssh = own('/usr/bin/ssh', [
    '-N',
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${rigPaths(stateDir).knownHosts}`,
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    rig.privateKeyPath,
    '-p',
    String(rig.sshPort),
    '-L',
    `127.0.0.1:${forwardPort}:127.0.0.1:${echoPort}`,
    `${host.user}@127.0.0.1`,
  ]);
  await waitForPort(forwardPort, ssh, 'ssh -L');
  const websockify = await startWebsockify(forwardPort);
  return [
    {
      name: 'proxy, via SSH (production path)',
      key: 'proxySsh',
      url: `ws://127.0.0.1:${proxy.port}/?token=${token}`,
      origin: `http://127.0.0.1:${proxy.port}`,
      pids: [proxy.pid],
    },
    {
      name: 'websockify, via OpenSSH -L',
      key: 'websockifySsh',
      url: websockify.url,
      pids: [websockify.pid, ssh.pid ?? -1],
    },
  ];
}

function connect(target: Target): Promise<WebSocket> {
  const ws = new WebSocket(target.url, {
    perMessageDeflate: false,
    ...(target.origin ? { origin: target.origin } : {}),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) =>
      reject(new Error(`${target.name}: HTTP ${response.statusCode}`)),
    );
  });
}

/** MB/s of payload echoed: `total` bytes in `message`-sized messages, at most `window` in flight. */
function throughput(ws: WebSocket, total: number, message: Buffer, window: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let received = 0;
    const started = performance.now();
    const pump = (): void => {
      while (sent < total && sent - received < window) {
        ws.send(message, { binary: true });
        sent += message.length;
      }
    };
    const onMessage = (data: Buffer): void => {
      received += data.length;
      if (received < total) {
        pump();
        return;
      }
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(total / ((performance.now() - started) / 1000) / 1e6);
    };
    const onClose = (code: number): void => {
      reject(new Error(`closed (${code}) after ${received} of ${total} bytes`));
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    pump();
  });
}

/** Round trips of one small message at a time, over anything that echoes. */
async function roundTrips(
  send: (payload: Buffer) => void,
  onData: (listener: (chunk: Buffer) => void) => void,
  samples: number,
): Promise<number[]> {
  const payload = randomBytes(LATENCY_BYTES);
  let pending = 0;
  let done: (() => void) | null = null;
  onData((chunk) => {
    pending -= chunk.length;
    if (pending <= 0 && done) {
      const resolve = done;
      done = null;
      resolve();
    }
  });
  const times: number[] = [];
  for (let index = 0; index < samples; index += 1) {
    const back = new Promise<void>((resolve) => {
      done = resolve;
    });
    pending = payload.length;
    const started = performance.now();
    send(payload);
    await back;
    times.push(performance.now() - started);
  }
  return times;
}

async function wsRoundTrips(ws: WebSocket, samples: number): Promise<number[]> {
  return roundTrips(
    (payload) => ws.send(payload, { binary: true }),
    (listener) => ws.on('message', listener),
    samples,
  );
}

async function tcpRoundTrips(port: number, samples: number): Promise<number[]> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  try {
    return await roundTrips(
      (payload) => socket.write(payload),
      (listener) => socket.on('data', listener),
      samples,
    );
  } finally {
    socket.destroy();
  }
}

/** One round of one target; the direct round trip is taken right after, so both see the same load. */
async function measure(target: Target, figures: Figures, direct: number[], echoPort: number): Promise<void> {
  const ws = await connect(target);
  try {
    const message = randomBytes(MESSAGE_KIB * 1024);
    const cpuBefore = cpuMsOf(target.pids);
    figures.mbps.push(await throughput(ws, THROUGHPUT_MIB * 2 ** 20, message, WINDOW_MIB * 2 ** 20));
    figures.cpuMsPerMb.push((cpuMsOf(target.pids) - cpuBefore) / ((THROUGHPUT_MIB * 2 ** 20) / 1e6));
    figures.rttMs.push(median(await wsRoundTrips(ws, LATENCY_SAMPLES)));
  } finally {
    ws.terminate();
  }
  direct.push(median(await tcpRoundTrips(echoPort, LATENCY_SAMPLES)));
}

async function main(): Promise<void> {
  const echo = await startEcho();
  cleanups.push(() => echo.stop());
  const direct = await startDirectProxy(echo.port);
  const websockify = await startWebsockify(echo.port);
  const targets: Target[] = [
    {
      name: 'proxy, direct TCP target',
      key: 'proxy',
      url: `ws://127.0.0.1:${direct.port}/?token=${randomBytes(32).toString('base64url')}`,
      origin: `http://127.0.0.1:${direct.port}`,
      pids: [direct.pid],
    },
    { name: 'websockify, direct TCP target', key: 'websockify', url: websockify.url, pids: [websockify.pid] },
  ];
  const root = process.getuid?.() === 0;
  if (root) targets.push(...(await startSshPaths(echo.port)));
  else process.stderr.write('not root: the SSH rows (which need the hypervisor rig) are left out\n');

  // Warm every path (JIT, connection set-up, websockify's fork per connection) before measuring.
  for (const target of targets) {
    const ws = await connect(target);
    await throughput(ws, WARMUP_MIB * 2 ** 20, randomBytes(MESSAGE_KIB * 1024), WINDOW_MIB * 2 ** 20).catch(
      (error: unknown) => {
        throw new Error(`${target.name}: ${(error as Error).message}`);
      },
    );
    await wsRoundTrips(ws, 200);
    ws.terminate();
  }

  const figures = new Map<Target['key'], Figures>(
    targets.map((target) => [target.key, { mbps: [], rttMs: [], cpuMsPerMb: [] }]),
  );
  const directRtt: number[] = [];
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
    for (let offset = 0; offset < targets.length; offset += 1) {
      const target = targets[(roundIndex + offset) % targets.length]!;
      await measure(target, figures.get(target.key)!, directRtt, echo.port);
    }
  }

  const baseline = median(directRtt);
  const rows: [string, string, string, string][] = [
    ['path', 'throughput MB/s', 'CPU ms per MB', 'round trip p50 ms (added)'],
    ['TCP straight to the echo peer', '-', '-', `${round(baseline, 3)} (0)`],
  ];
  const summary: Record<string, number> = {};
  for (const target of targets) {
    const measured = figures.get(target.key)!;
    const mbps = round(median(measured.mbps), 1);
    const cpu = round(median(measured.cpuMsPerMb), 2);
    const added = round(median(measured.rttMs) - baseline, 3);
    summary[`${target.key}MBps`] = mbps;
    summary[`${target.key}CpuMsPerMB`] = cpu;
    summary[`${target.key}AddedLatencyP50Ms`] = added;
    rows.push([target.name, String(mbps), String(cpu), `${round(median(measured.rttMs), 3)} (+${added})`]);
  }
  const title =
    `console proxy vs websockify: ${THROUGHPUT_MIB} MiB in ${MESSAGE_KIB} KiB messages echoed, ` +
    `${LATENCY_SAMPLES} x ${LATENCY_BYTES} B round trips, median of ${ROUNDS} rounds`;
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  process.stdout.write(`\n${title}\n${'-'.repeat(title.length)}\n`);
  for (const row of rows) {
    process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}\n`);
  }
  const keys = root ? ['proxy', 'websockify', 'proxySsh', 'websockifySsh'] : ['proxy', 'websockify'];
  const figuresLine = {
    proxyMBps: summary.proxyMBps,
    websockifyMBps: summary.websockifyMBps,
    proxyAddedLatencyP50Ms: summary.proxyAddedLatencyP50Ms,
    websockifyAddedLatencyP50Ms: summary.websockifyAddedLatencyP50Ms,
    ...Object.fromEntries(
      keys.flatMap((key) => [
        [`${key}CpuMsPerMB`, summary[`${key}CpuMsPerMB`]],
        ...(key.endsWith('Ssh')
          ? [
              [`${key}MBps`, summary[`${key}MBps`]],
              [`${key}AddedLatencyP50Ms`, summary[`${key}AddedLatencyP50Ms`]],
            ]
          : []),
      ]),
    ),
    directRoundTripP50Ms: round(baseline, 3),
  };
  // The very last line: one JSON object, for scripts.
  process.stdout.write(`${JSON.stringify(figuresLine)}\n`);
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
