/**
 * Request/reply commands the API sends to the compute agent that owns an instance's host, with their
 * replies. Subjects come from commandSubject(Command, host).
 * Must never put a console token anywhere but the reply to the one requester: the token is a bearer
 * credential for a live VNC session, so replies carrying it are never logged.
 */
import { Command } from '../registry.js';
import {
  IsBoundedInt,
  IsHostName,
  IsInstanceId,
  IsOneOf,
  IsPattern,
  IsText,
  IsTimestamp,
  Optional,
} from '../validation.js';
import { CONSOLE_TYPES, type ConsoleType } from '../vocabulary.js';

/** The access URL of an authorised console, as Nova's `remote_console` body returns it. */
export class ConsoleAccess {
  @IsOneOf(CONSOLE_TYPES)
  readonly consoleType!: ConsoleType;

  /** The proxy's URL with the token in its query: a secret, never logged. */
  @IsPattern(/^https?:\/\/\S+$/, 'an http(s) URL', 2048)
  readonly url!: string;

  @IsTimestamp()
  readonly expiresAt!: string;
}

/**
 * Create a console token for the instance's VNC server; the agent appends ConsoleAuthorized (and the
 * instance's ConsoleTokenIssued) before it replies, so the proxy finds the token as soon as the user has it.
 */
@Command({ name: 'AuthorizeConsole', version: 1, target: 'compute', reply: () => ConsoleAccess })
export class AuthorizeConsole {
  @IsInstanceId()
  readonly instanceId!: string;

  /** The host the API believes the instance is on; the agent refuses if the store says otherwise. */
  @IsHostName()
  readonly host!: string;

  @IsOneOf(CONSOLE_TYPES)
  readonly consoleType!: ConsoleType;
}

/** The tail of the instance's serial console log, as Nova's `os-getConsoleOutput` returns it. */
export class ConsoleOutput {
  /** Capped so a reply fits in one NATS message (its default max payload is 1 MiB). */
  @IsText(0, 512 * 1024)
  readonly output!: string;
}

@Command({ name: 'GetConsoleOutput', version: 1, target: 'compute', reply: () => ConsoleOutput })
export class GetConsoleOutput {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsHostName()
  readonly host!: string;

  /** The number of trailing lines; absent means the whole log (the API maps Nova's -1 to absent). */
  @Optional()
  @IsBoundedInt(1, 100_000)
  readonly length?: number;
}
