import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';

import { WebSocket, WebSocketServer } from 'ws';

import { eventually, sleep } from '../../../test/support/eventually.js';
import { type BridgeEnd, type BridgeOptions, CLOSE, ConsoleBridge } from '../src/tunnel/bridge.js';

/**
 * The bridge between a real WebSocket pair on loopback (ws on both ends) and an in-memory stream
 * standing in for the SSH channel, so each side's pace is the test's to set.
 */
interface Rig {
  readonly client: WebSocket;
  readonly bridge: ConsoleBridge;
}

const servers: Server[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function connect(stream: Duplex, options: BridgeOptions = {}, clientOptions = {}): Promise<Rig> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer();
  servers.push(server);
  const bridged = new Promise<ConsoleBridge>((resolve) => {
    server.on('upgrade', (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (ws) => resolve(new ConsoleBridge(ws, stream, options)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, ...clientOptions });
  clients.push(client);
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  return { client, bridge: await bridged };
}

/** A stream that echoes what is written to it. */
function echo(): Duplex {
  const stream: Duplex = new Duplex({
    read() {
      return undefined;
    },
    write(chunk: Buffer, _encoding, done) {
      stream.push(chunk);
      done();
    },
  });
  return stream;
}

const closeOf = (client: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => {
    client.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });

describe(ConsoleBridge.name, () => {
  it('carries binary messages to the stream and the stream back as binary messages', async () => {
    const { client, bridge } = await connect(echo());
    const received: Buffer[] = [];
    client.on('message', (data: Buffer, isBinary) => {
      expect(isBinary).toBe(true);
      received.push(data);
    });
    const sent = randomBytes(200_000);
    for (let offset = 0; offset < sent.length; offset += 10_000)
      client.send(sent.subarray(offset, offset + 10_000));
    await eventually('every byte sent by the browser on the stream', () =>
      Buffer.concat(received).length === sent.length ? true : undefined,
    );
    expect(Buffer.concat(received).equals(sent)).toBe(true);
    client.close();
    const end: BridgeEnd = await bridge.ended;
    expect(end).toMatchObject({ toHostBytes: sent.length, toBrowserBytes: sent.length });
  });

  it('stops reading the stream while the browser does not keep up, and loses nothing', async () => {
    let supplied = 0;
    const chunk = randomBytes(64 * 1024);
    const digest = createHash('sha256');
    const total = 64 * 1024 * 1024;
    const host = new Duplex({
      read() {
        if (supplied >= total) {
          this.push(null);
          return;
        }
        supplied += chunk.length;
        digest.update(chunk);
        this.push(chunk);
      },
      write(_chunk, _encoding, done) {
        done();
      },
    });
    const { client } = await connect(host, { highWaterMark: 256 * 1024 });
    client.pause(); // a browser that has stopped reading
    await sleep(300);
    // What the browser has not read sits in the bridge's queue and the loopback socket buffers;
    // without backpressure the whole 64 MiB would have been read from the stream by now.
    expect(supplied).toBeLessThan(16 * 1024 * 1024);
    const received = createHash('sha256');
    let bytes = 0;
    client.on('message', (data: Buffer) => {
      received.update(data);
      bytes += data.length;
    });
    const closed = closeOf(client);
    client.resume();
    expect(await closed).toEqual({ code: CLOSE.normal, reason: 'console closed' });
    expect(bytes).toBe(total);
    expect(received.digest('hex')).toBe(digest.digest('hex'));
  }, 20_000);

  it('stops reading the browser while the stream does not keep up, and loses nothing', async () => {
    const written: Buffer[] = [];
    let release: (() => void) | null = null;
    const host = new Duplex({
      writableHighWaterMark: 64 * 1024,
      read() {
        return undefined;
      },
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk);
        // The first write is held until the test lets it go: a stalled SSH window.
        if (written.length === 1) release = done;
        else done();
      },
    });
    const { client } = await connect(host);
    const sent = randomBytes(16 * 1024 * 1024);
    for (let offset = 0; offset < sent.length; offset += 32 * 1024)
      client.send(sent.subarray(offset, offset + 32 * 1024));
    await sleep(300);
    expect(release).not.toBeNull();
    // The stream was handed one write and its buffer filled; the rest waits in the sockets.
    expect(host.writableLength).toBeLessThan(4 * 1024 * 1024);
    release!();
    await eventually('every byte on the stream once its write is let go', () =>
      Buffer.concat(written).length === sent.length ? true : undefined,
    );
    expect(Buffer.concat(written).equals(sent)).toBe(true);
  }, 20_000);

  it('does not stall a browser on a stream whose own buffer is larger than its mark (an SSH channel)', async () => {
    // Regression: the browser was paused past 1 MiB queued while the stream (2 MiB mark, as ssh2's
    // channel) still said it had room, so the 'drain' that should have resumed it never came.
    let written = 0;
    const host = new Duplex({
      writableHighWaterMark: 2 * 1024 * 1024,
      read() {
        return undefined;
      },
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        setTimeout(done, 1); // slower than the browser: the stream's buffer fills
      },
    });
    const { client } = await connect(host);
    const message = randomBytes(64 * 1024);
    for (let sent = 0; sent < 8 * 1024 * 1024; sent += message.length) client.send(message);
    await eventually(
      'all 8 MiB written to the stream',
      () => (written === 8 * 1024 * 1024 ? true : undefined),
      10_000,
    );
  }, 20_000);

  it('closes a browser that sends text (1003): RFB is binary', async () => {
    const { client, bridge } = await connect(echo());
    const closed = closeOf(client);
    client.send('hello');
    expect(await closed).toEqual({ code: CLOSE.unsupportedData, reason: 'binary messages only' });
    expect((await bridge.ended).why).toMatch(/text/);
  });

  it('closes the browser (1000) when the stream ends, and the stream when the browser goes', async () => {
    const ending = echo();
    const first = await connect(ending);
    const closed = closeOf(first.client);
    ending.push(null);
    expect(await closed).toEqual({ code: CLOSE.normal, reason: 'console closed' });

    const stream = echo();
    const second = await connect(stream);
    second.client.close();
    await second.bridge.ended;
    expect(stream.destroyed).toBe(true);
  });

  it('says why when it is closed from outside, and destroys the stream', async () => {
    const stream = echo();
    const { client, bridge } = await connect(stream);
    const closed = closeOf(client);
    bridge.close(CLOSE.policyViolation, 'token revoked');
    expect(await closed).toEqual({ code: CLOSE.policyViolation, reason: 'token revoked' });
    expect(stream.destroyed).toBe(true);
  });

  it('ends a console whose browser stops answering pings', async () => {
    const stream = echo();
    const { bridge } = await connect(stream, { pingIntervalMs: 50 }, { autoPong: false });
    const end = await bridge.ended;
    expect(end.why).toMatch(/browser closed/);
    expect(stream.destroyed).toBe(true);
  });
});
