/**
 * Compute API microversions: parsing the request headers as Nova does (`OpenStack-API-Version: compute X.Y`
 * first, then the legacy `X-OpenStack-Nova-API-Version`), `latest`, and the range this API implements.
 * Must never accept a version above MAX_MICROVERSION: a client asking for behaviour we do not implement gets
 * Nova's 406, not a silently older answer.
 */
import { ApiError } from './api-error.js';

/** One change a microversion brought: the version and, in a sentence, what it changed. */
export interface VersionChange {
  readonly version: `${number}.${number}`;
  readonly changed: string;
}

export class Microversion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(text: string): Microversion | null {
    const match = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(text);
    if (!match) return null;
    return new Microversion(Number(match[1]), Number(match[2]));
  }

  /** Whether this version has the change (one of the named changes of compute/microversions.ts). */
  atLeast(change: VersionChange): boolean {
    const other = Microversion.parse(change.version);
    if (!other) throw new Error(`not a microversion: ${change.version}`);
    return this.compare(other) >= 0;
  }

  compare(other: Microversion): number {
    return this.major !== other.major ? this.major - other.major : this.minor - other.minor;
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export const MIN_MICROVERSION = new Microversion(2, 1);
/**
 * The newest compute microversion whose changes this API honours for every call it implements
 * (docs/api-microversions.md lists them); Nova Zed's maximum is 2.93.
 */
export const MAX_MICROVERSION = new Microversion(2, 93);

export const VERSION_HEADER = 'OpenStack-API-Version';
export const LEGACY_VERSION_HEADER = 'X-OpenStack-Nova-API-Version';

/** The header value naming a compute version, or undefined; a header listing other services only is ignored. */
function requestedVersion(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const modern = headers[VERSION_HEADER.toLowerCase()];
  const values = Array.isArray(modern) ? modern : modern === undefined ? [] : [modern];
  for (const item of values.flatMap((value) => value.split(','))) {
    const [service, version, ...rest] = item.trim().split(/\s+/);
    if (service?.toLowerCase() === 'compute')
      return rest.length > 0 ? `${version ?? ''} ${rest.join(' ')}` : (version ?? '');
  }
  const legacy = headers[LEGACY_VERSION_HEADER.toLowerCase()];
  if (legacy === undefined) return undefined;
  return (Array.isArray(legacy) ? legacy.join(',') : legacy).trim();
}

/** The version a compute request asked for; Nova's 400 or 406 when it cannot be served. */
export function negotiateMicroversion(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Microversion {
  const text = requestedVersion(headers);
  if (text === undefined) return MIN_MICROVERSION;
  if (text.toLowerCase() === 'latest') return MAX_MICROVERSION;
  const version = Microversion.parse(text);
  if (!version) {
    throw new ApiError(
      400,
      `API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  }
  if (version.compare(MIN_MICROVERSION) < 0 || version.compare(MAX_MICROVERSION) > 0) {
    throw new ApiError(
      406,
      `Version ${version.toString()} is not supported by the API. Minimum is ${MIN_MICROVERSION.toString()} and maximum is ${MAX_MICROVERSION.toString()}.`,
    );
  }
  return version;
}
