import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import ssh2 from 'ssh2';
import type { Connection, ServerChannel } from 'ssh2';

import {
  ChannelFailed,
  CommandTimedOut,
  ConnectionLost,
  HostKeyMismatch,
  HostUnreachable,
  InvalidSshArgument,
  SessionClosed,
} from '../src/errors.js';
import { eventually, sleep } from '../../../test/support/eventually.js';
import { fingerprintOf } from '../src/host-key.js';
import { SshSession, type SshSessionOptions } from '../src/ssh-session.js';

/**
 * An in-process SSH server standing in for a host: it accepts any client key and answers each exec
 * with whatever the test's handler does, so the session's own behaviour is tested without a rig.
 */
interface FakeSshd {
  readonly port: number;
  readonly fingerprint: string;
  connections: number;
  authentications: number;
  readonly commands: string[];
  stop(): Promise<void>;
}

type ExecHandler = (command: string, channel: ServerChannel, client: Connection) => void;

/**
 * A fresh ed25519 key pair. ssh2's generateKeyPairSync now and then (about 1 in 200 here) writes a
 * private key its own parser calls malformed, which made this suite flaky: such a key is drawn again.
 */
function ed25519Key(): { privateKey: string; publicBlob: Buffer } {
  for (;;) {
    const { private: privateKey } = ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = ssh2.utils.parseKey(privateKey);
    if (!(parsed instanceof Error)) return { privateKey, publicBlob: parsed.getPublicSSH() };
  }
}

function hostKey(): { privateKey: string; fingerprint: string } {
  const { privateKey, publicBlob } = ed25519Key();
  return { privateKey, fingerprint: fingerprintOf(publicBlob) };
}

async function startSshd(onExec: ExecHandler): Promise<FakeSshd> {
  const key = hostKey();
  const clients = new Set<Connection>();
  const state = { connections: 0, authentications: 0, commands: [] as string[] };
  const server = new ssh2.Server({ hostKeys: [key.privateKey] }, (client) => {
    state.connections += 1;
    clients.add(client);
    client.on('error', () => undefined);
    client.on('close', () => clients.delete(client));
    client.on('authentication', (context) => {
      state.authentications += 1;
      context.accept();
    });
    // A tunnel (direct-tcpip) to port 7 answers with what it was asked for and then echoes; any
    // other port is refused, as sshd refuses one that PermitOpen does not allow.
    client.on('tcpip', (accept, reject, info) => {
      if (info.destPort !== 7) {
        reject();
        return;
      }
      const channel = accept();
      channel.write(`to ${info.destIP}:${info.destPort}\n`);
      channel.pipe(channel);
    });
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      session.on('exec', (accept, _reject, info) => {
        state.commands.push(info.command);
        onExec(info.command, accept(), client);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, {
    port,
    fingerprint: key.fingerprint,
    stop: async () => {
      for (const client of clients) client.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

let keyDir: string;
let clientKeyPath: string;
const sessions: SshSession[] = [];

function session(port: number, fingerprint: string, options: SshSessionOptions = {}): SshSession {
  const created = new SshSession(
    {
      host: 'h1',
      address: '127.0.0.1',
      port,
      username: 'nimbus',
      privateKeyPath: clientKeyPath,
      hostKeyFingerprint: fingerprint,
    },
    { connectWaitMs: 2_000, backoff: { initialMs: 20, maxMs: 100, multiplier: 2, jitter: 0 }, ...options },
  );
  sessions.push(created);
  return created;
}

const answer =
  (stdout: string, stderr = '', code = 0): ExecHandler =>
  (_command, channel) => {
    channel.write(stdout);
    channel.stderr.write(stderr);
    channel.exit(code);
    channel.end();
  };

beforeAll(async () => {
  keyDir = await mkdtemp(path.join(tmpdir(), 'nimbus-ssh-session-'));
  clientKeyPath = path.join(keyDir, 'client_ed25519');
  await writeFile(clientKeyPath, ed25519Key().privateKey, { mode: 0o600 });
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

afterAll(() => rm(keyDir, { recursive: true, force: true }));

describe(SshSession.name, () => {
  it('sends the quoted command line and returns stdout, stderr and the exit code', async () => {
    const sshd = await startSshd(answer('out\n', 'warn\n', 3));
    try {
      const result = await session(sshd.port, sshd.fingerprint).exec(['virsh', 'domstate', "x'; rm -rf /"], {
        timeoutMs: 2_000,
        idempotent: true,
      });
      expect(sshd.commands).toEqual([`virsh domstate 'x'\\''; rm -rf /'`]);
      expect(result).toEqual({
        commandLine: `virsh domstate 'x'\\''; rm -rf /'`,
        exitCode: 3,
        signal: null,
        stdout: 'out\n',
        stderr: 'warn\n',
      });
    } finally {
      await sshd.stop();
    }
  });

  it('shares one connection between calls', async () => {
    const sshd = await startSshd(answer('ok'));
    try {
      const ssh = session(sshd.port, sshd.fingerprint);
      await Promise.all(
        Array.from({ length: 12 }, () => ssh.exec(['true'], { timeoutMs: 2_000, idempotent: true })),
      );
      expect(sshd.connections).toBe(1);
      expect(ssh.stats()).toMatchObject({ connected: true, connects: 1 });
    } finally {
      await sshd.stop();
    }
  });

  it('refuses a host whose key is not the pinned one before authenticating, and does not retry it', async () => {
    const sshd = await startSshd(answer('never'));
    try {
      const ssh = session(sshd.port, hostKey().fingerprint);
      const call = ssh.exec(['true'], { timeoutMs: 2_000, idempotent: true });
      await expect(call).rejects.toBeInstanceOf(HostKeyMismatch);
      await expect(call).rejects.toThrow(`it presented host key ${sshd.fingerprint}`);
      expect(sshd.authentications).toBe(0);
      expect(sshd.commands).toEqual([]);
      expect(ssh.stats().connects).toBe(0);
    } finally {
      await sshd.stop();
    }
  });

  it('keeps a call waiting through failed attempts, spaced by the backoff, until its deadline', async () => {
    let attempts = 0;
    const refuser = net.createServer((socket) => {
      attempts += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
    const port = (refuser.address() as net.AddressInfo).port;
    try {
      const ssh = session(port, hostKey().fingerprint, {
        connectWaitMs: 600,
        backoff: { initialMs: 100, maxMs: 100, multiplier: 1, jitter: 0 },
      });
      const started = Date.now();
      const call = ssh.exec(['true'], { timeoutMs: 2_000, idempotent: true });
      await expect(call).rejects.toBeInstanceOf(HostUnreachable);
      await expect(call).rejects.toThrow(/within 600 ms; last attempt: /);
      expect(Date.now() - started).toBeGreaterThanOrEqual(590);
      // About one attempt per 100 ms: spaced, not a tight loop.
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(attempts).toBeLessThanOrEqual(8);
      await ssh.close();
      const after = attempts;
      await sleep(250);
      expect(attempts).toBe(after); // close() ended the reconnection loop
    } finally {
      await new Promise<void>((resolve) => refuser.close(() => resolve()));
    }
  });

  it('stops a command that outlives its timeout', async () => {
    const sshd = await startSshd(() => undefined); // never answers
    try {
      const call = session(sshd.port, sshd.fingerprint).exec(['virsh', 'event', '--loop'], {
        timeoutMs: 200,
        idempotent: true,
      });
      await expect(call).rejects.toBeInstanceOf(CommandTimedOut);
    } finally {
      await sshd.stop();
    }
  });

  it('runs an idempotent command again after the connection drops under it, on a new connection', async () => {
    let execs = 0;
    const sshd = await startSshd((command, channel, client) => {
      execs += 1;
      if (execs === 1)
        client.end(); // the host goes away mid-command
      else answer('second time')(command, channel, client);
    });
    try {
      const ssh = session(sshd.port, sshd.fingerprint);
      const result = await ssh.exec(['virsh', 'domstate', 'x'], { timeoutMs: 2_000, idempotent: true });
      expect(result.stdout).toBe('second time');
      expect(sshd.connections).toBe(2);
      expect(ssh.stats().connects).toBe(2);
    } finally {
      await sshd.stop();
    }
  });

  it('does not run a command that is not idempotent again: the loss is reported instead', async () => {
    const sshd = await startSshd((_command, _channel, client) => client.end());
    try {
      const call = session(sshd.port, sshd.fingerprint).exec(['mkfs', '/dev/x'], {
        timeoutMs: 2_000,
        idempotent: false,
      });
      await expect(call).rejects.toBeInstanceOf(ConnectionLost);
      expect(sshd.commands).toEqual(['mkfs /dev/x']);
    } finally {
      await sshd.stop();
    }
  });

  it('opens a tunnel to an address as the host sees it, over the same connection', async () => {
    const sshd = await startSshd(answer('ok'));
    try {
      const ssh = session(sshd.port, sshd.fingerprint);
      await ssh.exec(['true'], { timeoutMs: 2_000, idempotent: true });
      const tunnel = await ssh.forwardOut('127.0.0.1', 7);
      const received: Buffer[] = [];
      tunnel.on('data', (chunk: Buffer) => received.push(chunk));
      tunnel.write('ping');
      const expected = 'to 127.0.0.1:7\nping';
      await eventually(
        'the echo through the tunnel',
        () => (Buffer.concat(received).toString() === expected ? true : undefined),
        { timeoutMs: 2_000, intervalMs: 10 },
      ).catch(() => undefined); // the assertion below says what arrived instead
      expect(Buffer.concat(received).toString()).toBe(expected);
      tunnel.destroy();
      expect(sshd.connections).toBe(1);
    } finally {
      await sshd.stop();
    }
  });

  it('reports a tunnel the host refuses as ChannelFailed, leaving the connection up', async () => {
    const sshd = await startSshd(answer('ok'));
    try {
      const ssh = session(sshd.port, sshd.fingerprint);
      await expect(ssh.forwardOut('127.0.0.1', 5900)).rejects.toBeInstanceOf(ChannelFailed);
      await expect(ssh.forwardOut('127.0.0.1', 5900)).rejects.toThrow(/refused a tunnel to 127.0.0.1:5900/);
      expect(ssh.stats()).toMatchObject({ connected: true, connects: 1 });
    } finally {
      await sshd.stop();
    }
  });

  it('fails calls after close() with SessionClosed, and refuses a NUL before connecting', async () => {
    const sshd = await startSshd(answer('ok'));
    try {
      const ssh = session(sshd.port, sshd.fingerprint);
      await expect(ssh.exec(['echo', 'a\0b'], { timeoutMs: 1_000, idempotent: true })).rejects.toBeInstanceOf(
        InvalidSshArgument,
      );
      expect(sshd.connections).toBe(0);
      await ssh.exec(['true'], { timeoutMs: 1_000, idempotent: true });
      await ssh.close();
      await expect(ssh.exec(['true'], { timeoutMs: 1_000, idempotent: true })).rejects.toBeInstanceOf(
        SessionClosed,
      );
    } finally {
      await sshd.stop();
    }
  });
});
