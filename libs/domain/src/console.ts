/**
 * The console aggregate: one authorised console token, as the fold of `console-<sha256(token)>`.
 * The proxy asks one question of it: may this token open this instance's console right now?
 * Pure: the time is passed in.
 */
import { type ConsoleEvent, type DecodedEvent, isKnownEvent } from '#libs/contracts';

export interface ConsoleState {
  readonly authorized: boolean;
  readonly tokenHash: string;
  readonly instanceId: string;
  readonly projectId: string;
  readonly host: string;
  readonly port: number;
  readonly expiresAt: string;
  readonly revoked: boolean;
  readonly revokedReason: string | null;
}

export const initialConsole = (): ConsoleState => ({
  authorized: false,
  tokenHash: '',
  instanceId: '',
  projectId: '',
  host: '',
  port: 0,
  expiresAt: '',
  revoked: false,
  revokedReason: null,
});

export function evolveConsole(state: ConsoleState, event: DecodedEvent): ConsoleState {
  if (!isKnownEvent(event)) return state;
  const consoleEvent = event as ConsoleEvent;
  switch (consoleEvent.type) {
    case 'ConsoleAuthorized': {
      const { tokenHash, instanceId, projectId, host, port, expiresAt } = consoleEvent.data;
      return { ...state, authorized: true, tokenHash, instanceId, projectId, host, port, expiresAt };
    }
    case 'ConsoleRevoked':
      return { ...state, revoked: true, revokedReason: consoleEvent.data.reason };
  }
  return state;
}

export const consoleReducer = { initial: initialConsole, evolve: evolveConsole };

export type ConsoleVerdict =
  | { readonly ok: true; readonly host: string; readonly port: number; readonly instanceId: string }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'revoked' };

export function checkConsole(state: ConsoleState, now: Date): ConsoleVerdict {
  if (!state.authorized) return { ok: false, reason: 'unknown' };
  if (state.revoked) return { ok: false, reason: 'revoked' };
  if (new Date(state.expiresAt).getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, host: state.host, port: state.port, instanceId: state.instanceId };
}
