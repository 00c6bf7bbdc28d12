/**
 * Events of the `console-<sha256 of token>` stream: one stream per console token, so the proxy checks a
 * token with a single point read (no projection lag) by hashing what the browser presented.
 * Must never hold the token itself, nor anything from which it could be derived: only its SHA-256.
 */
import { DomainEvent, eventCatalog, registerUpcaster } from '../registry.js';
import {
  IsBoundedInt,
  IsHostName,
  IsInstanceId,
  IsKeystoneId,
  IsOneOf,
  IsSha256Hex,
  IsTimestamp,
} from '../validation.js';
import {
  CONSOLE_REVOKE_REASONS,
  CONSOLE_TYPES,
  type ConsoleRevokeReason,
  type ConsoleType,
} from '../vocabulary.js';

/** The compute agent issued a console token for an instance's VNC server. */
@DomainEvent({ type: 'ConsoleAuthorized', version: 1, category: 'console' })
export class ConsoleAuthorized {
  @IsSha256Hex()
  readonly tokenHash!: string;

  @IsInstanceId()
  readonly instanceId!: string;

  /** The instance's project: the proxy refuses the console to anyone outside it. */
  @IsKeystoneId()
  readonly projectId!: string;

  /** The hypervisor host whose loopback the VNC server listens on; the proxy tunnels there over SSH. */
  @IsHostName()
  readonly host!: string;

  @IsBoundedInt(1, 65_535)
  readonly port!: number;

  @IsOneOf(CONSOLE_TYPES)
  readonly consoleType!: ConsoleType;

  /** After this instant the proxy refuses the token, revoked or not. */
  @IsTimestamp()
  readonly expiresAt!: string;
}

@DomainEvent({ type: 'ConsoleRevoked', version: 2, category: 'console' })
export class ConsoleRevoked {
  @IsSha256Hex()
  readonly tokenHash!: string;

  @IsInstanceId()
  readonly instanceId!: string;

  @IsOneOf(CONSOLE_REVOKE_REASONS)
  readonly reason!: ConsoleRevokeReason;
}

// v2 added the reboot and power-state reasons; every v1 reason is still one.
registerUpcaster('ConsoleRevoked', 1, (v1) => v1);

export const CONSOLE_EVENTS = eventCatalog('console', { ConsoleAuthorized, ConsoleRevoked });
