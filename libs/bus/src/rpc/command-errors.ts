/**
 * The errors a requester sees from sendCommand, one class per thing it would act on differently: nobody
 * answered in time, nobody listens on the subject, the handler refused or failed (with its code), or the
 * bus could not carry the request at all.
 * Must never carry the command payload or the reply: their values may be secrets.
 */

/** Base of every sendCommand failure; `subject` says where the request went. */
export abstract class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly subject: string,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No reply within the timeout: the handler may still act, so the caller must not assume it did not. */
export class CommandTimeout extends CommandError {
  override readonly name = 'CommandTimeout';

  constructor(
    command: string,
    subject: string,
    readonly timeoutMs: number,
  ) {
    super(command, subject, `${command} on ${subject} got no reply within ${timeoutMs} ms`);
  }
}

/** Nothing subscribes the subject (e.g. the host's agent is down); the command certainly did not run. */
export class NoResponders extends CommandError {
  override readonly name = 'NoResponders';

  constructor(command: string, subject: string) {
    super(command, subject, `no service answers ${command} on ${subject}`);
  }
}

/** The handler answered with an error body: `code` is BadRequest, Conflict, Internal or a domain code. */
export class CommandFailed extends CommandError {
  override readonly name = 'CommandFailed';

  constructor(
    command: string,
    subject: string,
    readonly code: string,
    readonly remoteMessage: string,
  ) {
    super(command, subject, `${command} on ${subject} failed with ${code}: ${remoteMessage}`);
  }
}

/** The bus failed before an answer could come (not connected, connection closed mid-request). */
export class CommandTransportError extends CommandError {
  override readonly name = 'CommandTransportError';

  constructor(command: string, subject: string, cause: unknown) {
    super(
      command,
      subject,
      `${command} on ${subject} could not be carried: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
