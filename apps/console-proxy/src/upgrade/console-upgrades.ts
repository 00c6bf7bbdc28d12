/**
 * The console WebSocket endpoint: every upgrade request is checked before the handshake completes,
 * in this order: it is a WebSocket handshake on `/`, its Origin is allowed, the proxy can see
 * revocations and has room, the token is present and well formed, and the store says (point read)
 * it is authorised, unexpired and not revoked. Only then is the tunnel to the VNC server opened, and
 * only once that is open is the handshake completed and the bytes bridged. Each refusal is an HTTP
 * status with a short reason: 400 not a handshake, 404 another path, 403 a foreign Origin, 401 a
 * token that does not authenticate (missing, malformed, unknown, expired, revoked), 503 no store or
 * no room, 502 no tunnel, 504 too slow. An open console is closed (1008) when its token is revoked
 * or expires.
 * Must never log the token or the request URL, and never complete a handshake for a token it has
 * not just seen authorised in the store.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import { type WebSocket, WebSocketServer } from 'ws';

import { ChannelFailed, SshError } from '#libs/host-ssh';

import type { Admission, ConsoleAuthority } from '../admission/console-authority.js';
import type { ConsoleRegistry, TrackedConsole } from '../admission/console-registry.js';
import { type Log, redact } from '../log.js';
import { type BridgeOptions, CLOSE, ConsoleBridge } from '../tunnel/bridge.js';
import { UnknownConsoleHost, type VncTunnels } from '../tunnel/vnc-tunnels.js';
import type { OriginPolicy } from './origin.js';
import { type RefusalStatus, refuse } from './rejection.js';
import { hashPrefix, parseUpgradeTarget } from './token.js';

export interface UpgradeSettings {
  readonly origins: OriginPolicy;
  readonly authority: ConsoleAuthority;
  readonly tunnels: VncTunnels;
  readonly registry: ConsoleRegistry;
  readonly log: Log;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  /** False while the proxy cannot see revocations (its feed is down) or is shutting down. */
  readonly accepting: () => boolean;
  readonly clock?: () => number;
  readonly bridge?: BridgeOptions;
  /** The largest message accepted from a browser (default 8 MiB: RFB client messages are small). */
  readonly maxPayload?: number;
}

/** setTimeout's limit; a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

export class ConsoleUpgrades {
  private readonly wss: WebSocketServer;
  private readonly bridges = new Set<ConsoleBridge>();
  private readonly clock: () => number;

  constructor(private readonly settings: UpgradeSettings) {
    this.clock = settings.clock ?? Date.now;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // RFB frames are mostly compressed pixels already; deflating them again costs CPU and latency.
      perMessageDeflate: false,
      maxPayload: settings.maxPayload ?? 8 * 1024 * 1024,
      // websockify's clients may offer `binary`; answer it, never anything else.
      handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
    });
  }

  /** Consoles open now. */
  get open(): number {
    return this.bridges.size;
  }

  /** For `server.on('upgrade', ...)`. */
  readonly handle = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => undefined); // a reset peer must not crash the process
    void this.admit(request, socket, head).catch((error: unknown) => {
      this.settings.log('console upgrade failed', { error: redact((error as Error).message) });
      socket.destroy();
    });
  };

  /** Closes every open console (shutting down). */
  closeAll(code: number, reason: string): void {
    for (const bridge of [...this.bridges]) bridge.close(code, reason);
  }

  private async admit(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { log } = this.settings;
    const peer = request.socket.remoteAddress;
    const early = this.precheck(request);
    if (!early.ok) {
      log('console refused', { status: early.status, reason: early.reason, peer });
      refuse(socket, early.status, early.reason);
      return;
    }
    const token = hashPrefix(early.tokenHash);
    // Tracked before the point read: a revocation stored after the read still reaches this console.
    const tracked = this.settings.registry.track(early.tokenHash);
    const pending = new Pending(socket, tracked);
    const deadline = setTimeout(() => {
      if (pending.refuse(504, 'console not reachable in time'))
        log('console refused', { status: 504, reason: 'console not reachable in time', token, peer });
    }, this.settings.connectTimeoutMs);
    let outcome: Outcome;
    try {
      outcome = await this.connect(early.tokenHash, pending);
    } finally {
      clearTimeout(deadline);
    }
    if (!outcome.ok) {
      if (pending.refuse(outcome.status, outcome.reason)) {
        const detail = outcome.detail === undefined ? {} : { detail: redact(outcome.detail) };
        log('console refused', { status: outcome.status, reason: outcome.reason, token, peer, ...detail });
      }
      return;
    }
    const { stream, admission } = outcome;
    if (!pending.hand()) {
      stream.destroy(); // refused (too slow) or the browser left while the tunnel was opening
      return;
    }
    // ws refuses a handshake it finds wrong by closing the socket without calling back; then the
    // tunnel and the tracking go with it.
    const onAbandoned = (): void => {
      stream.destroy();
      tracked.release();
    };
    socket.once('close', onAbandoned);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      socket.off('close', onAbandoned);
      this.bridge(ws, stream, tracked, admission, token, peer);
    });
  }

  /** The checks that need neither the store nor a host. */
  private precheck(request: IncomingMessage): Early {
    if (!isHandshake(request)) return { ok: false, status: 400, reason: 'not a WebSocket handshake' };
    const target = parseUpgradeTarget(request.url);
    if (!target.ok && target.reason === 'not-found')
      return { ok: false, status: 404, reason: 'no console endpoint here' };
    if (!this.settings.origins.allows(request.headers.origin))
      return { ok: false, status: 403, reason: 'origin not allowed' };
    if (!this.settings.accepting()) return { ok: false, status: 503, reason: 'console proxy not ready' };
    if (this.settings.registry.size >= this.settings.maxConnections)
      return { ok: false, status: 503, reason: 'too many consoles open' };
    if (!target.ok) return { ok: false, status: 401, reason: target.reason };
    return { ok: true, tokenHash: target.tokenHash };
  }

  /** The store's verdict, then the tunnel; nothing is refused here, only decided. */
  private async connect(tokenHash: string, pending: Pending): Promise<Outcome> {
    let admission: Admission;
    try {
      admission = await this.settings.authority.admit(tokenHash);
    } catch (error) {
      return {
        ok: false,
        status: 503,
        reason: 'console check unavailable',
        detail: (error as Error).message,
      };
    }
    if (!admission.ok) return { ok: false, status: 401, reason: admission.refusal };
    if (pending.isSettled()) return { ok: false, status: 504, reason: 'console not reachable in time' };
    if (pending.tracked.revokedReason() !== null) return { ok: false, status: 401, reason: 'token revoked' };
    let stream: Duplex;
    try {
      stream = await this.settings.tunnels.open(admission.host, admission.port);
    } catch (error) {
      return { ok: false, status: 502, reason: tunnelRefusal(error), detail: (error as Error).message };
    }
    const refusal =
      pending.tracked.revokedReason() !== null
        ? 'token revoked'
        : this.clock() >= admission.expiresAt.getTime()
          ? 'token expired'
          : null;
    if (refusal !== null) {
      stream.destroy();
      return { ok: false, status: 401, reason: refusal };
    }
    return { ok: true, stream, admission };
  }

  private bridge(
    ws: WebSocket,
    stream: Duplex,
    tracked: TrackedConsole,
    admission: Extract<Admission, { ok: true }>,
    token: string,
    peer: string | undefined,
  ): void {
    const { log } = this.settings;
    const bridge = new ConsoleBridge(ws, stream, this.settings.bridge);
    this.bridges.add(bridge);
    const cancelExpiry = at(admission.expiresAt.getTime(), this.clock, () => {
      bridge.close(CLOSE.policyViolation, 'token expired');
    });
    tracked.onRevoked(() => {
      bridge.close(CLOSE.policyViolation, 'token revoked');
    });
    log('console opened', { token, instance: admission.instanceId, host: admission.host, peer });
    void bridge.ended.then((end) => {
      cancelExpiry();
      tracked.release();
      this.bridges.delete(bridge);
      log('console closed', { token, instance: admission.instanceId, ...end });
    });
  }
}

type Early =
  | { readonly ok: true; readonly tokenHash: string }
  | { readonly ok: false; readonly status: RefusalStatus; readonly reason: string };

type Outcome =
  | { readonly ok: true; readonly stream: Duplex; readonly admission: Extract<Admission, { ok: true }> }
  | { readonly ok: false; readonly status: RefusalStatus; readonly reason: string; readonly detail?: string };

/**
 * An upgrade between its checks and its answer: answered exactly once, by a refusal, by being
 * handed to ws, or by the browser leaving first; each of those releases the tracking once.
 */
class Pending {
  private settled = false;

  constructor(
    private readonly socket: Duplex,
    readonly tracked: TrackedConsole,
  ) {
    socket.once('close', this.onGone);
  }

  isSettled(): boolean {
    return this.settled;
  }

  /** Refuses the upgrade unless it was answered already; true if this call answered it. */
  refuse(status: RefusalStatus, reason: string): boolean {
    if (!this.settle()) return false;
    this.tracked.release();
    refuse(this.socket, status, reason);
    return true;
  }

  /** Takes the upgrade for the handshake; false if it was answered already (or the browser left). */
  hand(): boolean {
    return this.settle();
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.socket.off('close', this.onGone);
    return true;
  }

  private readonly onGone = (): void => {
    if (this.settle()) this.tracked.release();
  };
}

/** What the handshake itself must carry (RFC 6455 4.2.1); ws checks it again. */
function isHandshake(request: IncomingMessage): boolean {
  const { headers } = request;
  return (
    request.method === 'GET' &&
    headers.upgrade?.toLowerCase() === 'websocket' &&
    WEBSOCKET_KEY.test(headers['sec-websocket-key'] ?? '') &&
    (headers['sec-websocket-version'] === '13' || headers['sec-websocket-version'] === '8')
  );
}

function tunnelRefusal(error: unknown): string {
  if (error instanceof UnknownConsoleHost) return 'console host unknown to this proxy';
  if (error instanceof ChannelFailed) return 'console not reachable on its host';
  if (error instanceof SshError) return 'console host unreachable';
  return 'console not reachable';
}

/** Runs `action` at `time` (epoch ms), however far away; returns a cancel. */
function at(time: number, clock: () => number, action: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const wait = time - clock();
    if (wait <= 0) {
      action();
      return;
    }
    timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => {
    clearTimeout(timer);
  };
}
