/**
 * One console's bytes, both ways: binary WebSocket messages from the browser are written to the VNC
 * stream (an SSH channel), and what the VNC server sends goes back as binary messages. Each way is
 * paced by the slower side: the stream is paused while the browser's socket has more than a high
 * water mark queued (and resumed once the message that crossed it has left), and the WebSocket stops
 * reading while the stream holds as much unwritten (resumed on 'drain'). A ping every 30 s ends a
 * console whose browser vanished without closing, so its tunnel is not held forever.
 * Must never buffer without bound in either direction, never pass on a text message (RFB is
 * binary), and never outlive either side: when one ends, the other is closed. No allocation per
 * message here beyond what ws and the stream make themselves: the handlers are bound once.
 */
import type { Duplex } from 'node:stream';

import { type RawData, WebSocket } from 'ws';

export interface BridgeOptions {
  /**
   * Bytes queued towards either side at which the other side is paused (default 1 MiB): the VNC
   * stream while the browser's socket holds this much, the browser while the stream does.
   */
  readonly highWaterMark?: number;
  /** How often the browser is pinged; one unanswered ping closes the console (default 30 s). */
  readonly pingIntervalMs?: number;
}

export interface BridgeEnd {
  readonly why: string;
  readonly toBrowserBytes: number;
  readonly toHostBytes: number;
  readonly durationMs: number;
}

/** WebSocket close codes (RFC 6455 7.4.1). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  internalError: 1011,
} as const;

const SEND_BINARY = { binary: true } as const;

export class ConsoleBridge {
  readonly ended: Promise<BridgeEnd>;
  private readonly highWaterMark: number;
  private readonly started = performance.now();
  private readonly pinger: NodeJS.Timeout;
  private toBrowserBytes = 0;
  private toHostBytes = 0;
  private browserPaused = false;
  private answeredPing = true;
  private done = false;
  private resolveEnded: (end: BridgeEnd) => void = () => undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly stream: Duplex,
    options: BridgeOptions = {},
  ) {
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    stream.on('data', this.fromHost);
    stream.once('end', this.onHostEnd);
    stream.once('close', this.onHostEnd);
    stream.on('error', this.onHostError);
    ws.on('message', this.fromBrowser);
    ws.once('close', this.onBrowserClose);
    ws.on('error', this.onBrowserError);
    ws.on('pong', this.onPong);
    this.pinger = setInterval(this.ping, options.pingIntervalMs ?? 30_000);
    this.pinger.unref();
  }

  /** Ends the console from outside (revoked, expired, shutting down), telling the browser why. */
  close(code: number, reason: string): void {
    this.finish(reason, code, reason);
  }

  private readonly fromHost = (chunk: Buffer): void => {
    this.toBrowserBytes += chunk.length;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount + chunk.length < this.highWaterMark) {
      this.ws.send(chunk, SEND_BINARY);
      return;
    }
    // This message takes the browser's queue over the mark: stop reading the host until it has left,
    // by which time everything queued before it has left too.
    this.stream.pause();
    this.ws.send(chunk, SEND_BINARY, this.onBrowserDrained);
  };

  // Node calls write callbacks with null, not undefined, on success.
  private readonly onBrowserDrained = (error?: Error | null): void => {
    if (!error && !this.done) this.stream.resume();
  };

  private readonly fromBrowser = (data: RawData, isBinary: boolean): void => {
    this.answeredPing = true;
    if (!isBinary) {
      this.finish('the browser sent a text message', CLOSE.unsupportedData, 'binary messages only');
      return;
    }
    const chunk = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    this.toHostBytes += chunk.length;
    const accepted = this.stream.write(chunk);
    // write() says "full" past the stream's own mark: 16 KiB for a TCP socket, which one 64 KiB
    // message already passes, so pausing the browser on that alone would stall the pipe at every
    // message. The browser is paused only once the stream also holds our mark, and only after a
    // "full" write(), since that is what promises the 'drain' that resumes it (an SSH channel's
    // own mark is 2 MiB, so there the larger of the two counts).
    if (accepted || this.browserPaused || this.stream.writableLength < this.highWaterMark) return;
    this.browserPaused = true;
    this.ws.pause();
    this.stream.once('drain', this.onHostDrained);
  };

  private readonly onHostDrained = (): void => {
    this.browserPaused = false;
    if (!this.done) this.ws.resume();
  };

  private readonly ping = (): void => {
    if (!this.answeredPing) {
      this.ws.terminate(); // its 'close' ends the bridge
      return;
    }
    this.answeredPing = false;
    this.ws.ping();
  };

  private readonly onPong = (): void => {
    this.answeredPing = true;
  };

  private readonly onHostEnd = (): void => {
    this.finish('the console stream ended', CLOSE.normal, 'console closed');
  };

  private readonly onHostError = (error: Error): void => {
    this.finish(`the console stream failed: ${error.message}`, CLOSE.internalError, 'console stream failed');
  };

  private readonly onBrowserClose = (code: number): void => {
    this.finish(`the browser closed (${code})`);
  };

  private readonly onBrowserError = (error: Error): void => {
    this.finish(`the browser connection failed: ${error.message}`);
  };

  private finish(why: string, code?: number, reason?: string): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.pinger);
    this.stream.off('data', this.fromHost);
    this.stream.destroy();
    if (code !== undefined && this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    this.resolveEnded({
      why,
      toBrowserBytes: this.toBrowserBytes,
      toHostBytes: this.toHostBytes,
      durationMs: Math.round(performance.now() - this.started),
    });
  }
}
