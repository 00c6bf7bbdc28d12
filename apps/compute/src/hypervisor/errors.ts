/**
 * The errors every HypervisorDriver throws, whatever drives the hosts: the compute agent catches these
 * classes (never an adapter's own) and maps them to events, e.g. `retryable` becomes
 * DomainStartFailed.retryable. Adapters subclass them only for failures of their own (a virsh command's
 * exit status); a failure of their transport is wrapped as the `cause`, never copied into a parallel class.
 * Must never carry secrets: messages name hosts, domains, paths and commands, never key material.
 */

export type HypervisorErrorCode =
  | 'InvalidArgument'
  | 'UnknownHost'
  | 'HostUnreachable'
  | 'DomainNotFound'
  | 'DomainNotRunning'
  | 'DomainConflict'
  | 'ImageNotCached'
  | 'ImageVerificationFailed'
  | 'HypervisorOperationFailed';

export abstract class HypervisorError extends Error {
  abstract readonly code: HypervisorErrorCode;
  /**
   * Whether trying again (later, or on another host) may succeed. False when the request itself is wrong
   * (a bad argument, a corrupt image), so the scheduler should not spend alternates on it.
   */
  abstract readonly retryable: boolean;
}

/** A value that would reach a host (a domain name, an id, a size) failed its strict pattern or range. */
export class InvalidArgument extends HypervisorError {
  override readonly name = 'InvalidArgument';
  readonly code = 'InvalidArgument';
  readonly retryable = false;
}

/** The driver was not configured with this host; the agent asked about a host it does not own. */
export class UnknownHost extends HypervisorError {
  override readonly name = 'UnknownHost';
  readonly code = 'UnknownHost';
  readonly retryable = false;
  constructor(readonly host: string) {
    super(`this driver does not serve host '${host}'`);
  }
}

/**
 * How an adapter wraps the failure of its transport: the transport's error as `cause` (the libvirt
 * adapter's are the host SSH library's), and whether another attempt may help when it is not the
 * class's default.
 */
export interface WrappedErrorOptions extends ErrorOptions {
  readonly retryable?: boolean;
}

/**
 * The host could not be reached (or was lost) before the operation's deadline. The libvirt adapter's
 * cause says how (a pin mismatch, a refused key, a lost connection: the host SSH library's errors).
 */
export class HostUnreachable extends HypervisorError {
  override readonly name: string = 'HostUnreachable';
  readonly code = 'HostUnreachable';
  readonly retryable: boolean;
  constructor(
    readonly host: string,
    message: string,
    options?: WrappedErrorOptions,
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
  }
}

export class DomainNotFound extends HypervisorError {
  override readonly name = 'DomainNotFound';
  readonly code = 'DomainNotFound';
  readonly retryable = false;
  constructor(
    readonly host: string,
    readonly domain: string,
  ) {
    super(`domain ${domain} does not exist on host ${host}`);
  }
}

/** The operation needs a running domain (a VNC console, say) and this one is not running. */
export class DomainNotRunning extends HypervisorError {
  override readonly name = 'DomainNotRunning';
  readonly code = 'DomainNotRunning';
  readonly retryable = false;
  constructor(
    readonly host: string,
    readonly domain: string,
  ) {
    super(`domain ${domain} on host ${host} is not running`);
  }
}

/** A domain with the spec's name exists on the host but is not the spec's instance (another uuid). */
export class DomainConflict extends HypervisorError {
  override readonly name = 'DomainConflict';
  readonly code = 'DomainConflict';
  readonly retryable = true;
}

/** spawn found no base image in the host's cache: ensureImage must run first. */
export class ImageNotCached extends HypervisorError {
  override readonly name = 'ImageNotCached';
  readonly code = 'ImageNotCached';
  readonly retryable = true;
  constructor(
    readonly host: string,
    readonly imageId: string,
  ) {
    super(`image ${imageId} is not in the image cache of host ${host}; call ensureImage first`);
  }
}

/** The image's bytes are not what was promised (size, checksum) or not a usable base image. */
export class ImageVerificationFailed extends HypervisorError {
  override readonly name = 'ImageVerificationFailed';
  readonly code = 'ImageVerificationFailed';
  /** Another host would get the same bytes. */
  readonly retryable = false;
  constructor(
    readonly imageId: string,
    reason: string,
  ) {
    super(`image ${imageId} failed verification: ${reason}`);
  }
}

/** The hypervisor refused or failed an operation for a reason not covered above. */
export class HypervisorOperationFailed extends HypervisorError {
  override readonly name: string = 'HypervisorOperationFailed';
  readonly code = 'HypervisorOperationFailed';
  readonly retryable: boolean;
  constructor(
    readonly host: string,
    message: string,
    options?: WrappedErrorOptions,
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
  }
}
