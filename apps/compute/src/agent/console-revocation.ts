/**
 * Ends an instance's consoles: each live token's `console-<hash>` stream gets ConsoleRevoked, which
 * the proxy reads on every connection and which closes the ones already open. Called before the
 * domain's VNC server goes away (stop, reboot, delete) or once it is found gone (power sync): its
 * port may belong to another domain afterwards, so no token may outlive the process it was issued
 * for. Idempotent: a token already revoked is left as it is, so a crash in between just revokes again.
 */
import { ConsoleRevoked, type ConsoleRevokeReason, build, streamFor } from '#libs/contracts';
import { type ConsoleState, type InstanceState, consoleReducer } from '#libs/domain';
import type { EventContext, EventStore } from '#libs/event-store';

export async function revokeConsoles(
  store: EventStore,
  state: InstanceState,
  reason: ConsoleRevokeReason,
  context: EventContext,
): Promise<void> {
  for (const { tokenHash } of state.consoleTokens) {
    await store.execute<ConsoleState>(
      streamFor('console', tokenHash),
      consoleReducer,
      (console) =>
        console.authorized && !console.revoked
          ? [build(ConsoleRevoked, { tokenHash, instanceId: state.id, reason })]
          : [],
      context,
    );
  }
}
