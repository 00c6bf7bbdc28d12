/**
 * Whether a token may open a console now, from the store itself: a point read of
 * `console-<sha256(token)>` folded with the console aggregate (no projection, so a token is usable
 * the moment the compute agent has handed it out, and a revocation counts the moment it is stored).
 * Must never admit a token whose stream does not say, for that very hash, that it was authorised,
 * is not revoked and has not expired.
 */
import { streamFor } from '#libs/contracts';
import { checkConsole, consoleReducer } from '#libs/domain';
import type { EventStore } from '#libs/event-store';

export type Refusal = 'token unknown' | 'token expired' | 'token revoked';

export type Admission =
  | {
      readonly ok: true;
      readonly instanceId: string;
      /** The hypervisor host whose loopback the VNC server listens on. */
      readonly host: string;
      readonly port: number;
      readonly expiresAt: Date;
    }
  | { readonly ok: false; readonly refusal: Refusal };

export interface ConsoleAuthority {
  admit(tokenHash: string): Promise<Admission>;
}

export class StoreConsoleAuthority implements ConsoleAuthority {
  constructor(
    private readonly store: Pick<EventStore, 'fold'>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async admit(tokenHash: string): Promise<Admission> {
    const { state } = await this.store.fold(streamFor('console', tokenHash), consoleReducer);
    const verdict = checkConsole(state, this.clock());
    if (!verdict.ok) return { ok: false, refusal: `token ${verdict.reason}` };
    // The stream is named after the hash; the event must say so too.
    if (state.tokenHash !== tokenHash) return { ok: false, refusal: 'token unknown' };
    return {
      ok: true,
      instanceId: verdict.instanceId,
      host: verdict.host,
      port: verdict.port,
      expiresAt: new Date(state.expiresAt),
    };
  }
}
