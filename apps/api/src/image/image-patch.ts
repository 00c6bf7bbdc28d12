/**
 * Glance's image update: a JSON patch (`application/openstack-images-v2.1-json-patch`, RFC 6902's
 * `{op, path, value}`; or the older v2.0 form `{"replace": "/name", "value": ...}`) applied to the
 * image's own attributes and extra properties, each step checked as Glance checks it: read-only and
 * reserved attributes refused (403), base attributes never removed, values of the attribute's type,
 * an extra property replaced or removed only if it is there (409). Pure: the caller appends the result.
 */
import { CONTAINER_FORMATS, DISK_FORMATS, IMAGE_PROPERTY_RULES, IMAGE_VISIBILITIES } from '#libs/contracts';
import type { ImageAttributes } from '#libs/domain';

import { ApiError, badRequest, conflict, forbidden } from '../common/http/api-error.js';
import { READ_ONLY_ATTRIBUTES } from './image.schemas.js';

export const PATCH_V21 = 'application/openstack-images-v2.1-json-patch';
export const PATCH_V20 = 'application/openstack-images-v2.0-json-patch';

type Op = 'add' | 'replace' | 'remove';

export interface PatchStep {
  readonly op: Op;
  /** The attribute or property the path names (one JSON-pointer segment, unescaped). */
  readonly name: string;
  readonly value?: unknown;
}

const OPS: readonly Op[] = ['add', 'replace', 'remove'];
/** Attributes that are the image's identity or its owner's, never changed by a patch here. */
const FIXED = new Set<string>([...READ_ONLY_ATTRIBUTES, 'id', 'owner', 'os_hidden']);
const BASE = new Set([
  'name',
  'visibility',
  'protected',
  'min_ram',
  'min_disk',
  'disk_format',
  'container_format',
  'tags',
]);
const MAX_STEPS = 256;

/** A value as the error repeats it: its JSON, cut short (`undefined` has none). */
const shown = (value: unknown): string =>
  (JSON.stringify(value) as string | undefined)?.slice(0, 64) ?? 'nothing';

/** Reads the body in the form its media type says; a malformed step is Glance's 400. */
export function parsePatch(body: unknown, mediaType: string): PatchStep[] {
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  if (body.length > MAX_STEPS) throw new ApiError(413, `A patch may hold at most ${MAX_STEPS} operations.`);
  return body.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw badRequest('Operations must be JSON objects.');
    const step = raw as Record<string, unknown>;
    let op: unknown;
    let path: unknown;
    if (mediaType === PATCH_V20) {
      const named = OPS.filter((candidate) => Object.hasOwn(step, candidate));
      if (named.length !== 1)
        throw badRequest(
          'Operation objects must contain exactly one member named "add", "remove", or "replace".',
        );
      op = named[0];
      path = step[op as Op];
    } else {
      ({ op, path } = step);
      if (typeof op !== 'string' || !OPS.includes(op as Op))
        throw badRequest(`Invalid operation: ${shown(op)}`);
    }
    if (typeof path !== 'string') throw badRequest('Unable to find `path` in the operation.');
    const name = pointerSegment(path);
    if (op !== 'remove' && !Object.hasOwn(step, 'value'))
      throw badRequest(`Operation "${String(op)}" requires a member named "value".`);
    return { op: op as Op, name, ...(op === 'remove' ? {} : { value: step['value'] }) };
  });
}

/** One-segment JSON pointers only (`/name`, `/os_distro`), `~1` and `~0` unescaped. */
function pointerSegment(path: string): string {
  const match = /^\/([^/]+)$/.exec(path);
  if (!match?.[1]) throw badRequest(`Invalid JSON pointer for this resource: '${path.slice(0, 64)}'`);
  return match[1].replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Applies the steps in order; `mayPublicize`: whether the caller may make the image public (admins). */
export function applyPatch(
  attributes: ImageAttributes,
  steps: readonly PatchStep[],
  mayPublicize: boolean,
): ImageAttributes {
  let next = attributes;
  for (const step of steps) {
    if (FIXED.has(step.name)) throw forbidden(`Attribute '${step.name}' is read-only.`);
    if (step.name.startsWith('os_glance')) throw forbidden(`Attribute '${step.name}' is reserved.`);
    next = BASE.has(step.name) ? applyBase(next, step, mayPublicize) : applyProperty(next, step);
  }
  return next;
}

function applyBase(attributes: ImageAttributes, step: PatchStep, mayPublicize: boolean): ImageAttributes {
  if (step.op === 'remove')
    throw forbidden(`Attribute '${step.name}' is a base attribute and cannot be removed.`);
  const { value } = step;
  const invalid = (): ApiError => badRequest(`Invalid value for ${step.name}: ${shown(value)}`);
  switch (step.name) {
    case 'name':
      if (value !== null && (typeof value !== 'string' || value.length > 255)) throw invalid();
      return { ...attributes, name: value };
    case 'visibility':
      if (!IMAGE_VISIBILITIES.some((visibility) => visibility === value)) throw invalid();
      if (value === 'public' && !mayPublicize)
        throw forbidden('You are not authorized to complete publicize_image action.');
      return { ...attributes, visibility: value as ImageAttributes['visibility'] };
    case 'protected':
      if (typeof value !== 'boolean') throw invalid();
      return { ...attributes, protected: value };
    case 'min_ram':
    case 'min_disk': {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2_147_483_647)
        throw invalid();
      return step.name === 'min_ram'
        ? { ...attributes, minRam: value as number }
        : { ...attributes, minDisk: value as number };
    }
    case 'disk_format':
      if (value !== null && !DISK_FORMATS.some((format) => format === value)) throw invalid();
      return { ...attributes, diskFormat: value as ImageAttributes['diskFormat'] };
    case 'container_format':
      if (value !== null && !CONTAINER_FORMATS.some((format) => format === value)) throw invalid();
      return { ...attributes, containerFormat: value as ImageAttributes['containerFormat'] };
    default: {
      if (
        !Array.isArray(value) ||
        !value.every((tag) => typeof tag === 'string' && tag.length >= 1 && tag.length <= 255)
      )
        throw invalid();
      const tags = [...new Set(value as string[])];
      if (tags.length > 128) throw new ApiError(413, 'Maximum tag limit exceeded.');
      return { ...attributes, tags };
    }
  }
}

function applyProperty(attributes: ImageAttributes, step: PatchStep): ImageAttributes {
  const exists = Object.hasOwn(attributes.properties, step.name);
  if (step.op === 'remove') {
    if (!exists) throw conflict(`Property ${step.name} does not exist.`);
    const properties = Object.fromEntries(
      Object.entries(attributes.properties).filter(([key]) => key !== step.name),
    );
    return { ...attributes, properties };
  }
  if (step.op === 'replace' && !exists) throw conflict(`Property ${step.name} does not exist.`);
  if (!IMAGE_PROPERTY_RULES.keyPattern.test(step.name))
    throw badRequest(
      `Provided object does not match schema 'image': invalid property ${JSON.stringify(step.name.slice(0, 64))}`,
    );
  if (typeof step.value !== 'string' || step.value.length > IMAGE_PROPERTY_RULES.maxValueLength)
    throw badRequest(`Provided object does not match schema 'image': ${step.name} must be a string`);
  if (!exists && Object.keys(attributes.properties).length >= IMAGE_PROPERTY_RULES.maxEntries)
    throw new ApiError(413, 'Maximum number of image properties exceeded.');
  return { ...attributes, properties: { ...attributes.properties, [step.name]: step.value } };
}
