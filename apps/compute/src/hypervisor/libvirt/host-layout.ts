/**
 * Where the libvirt adapter keeps things on a host: base images in the image cache, and per instance a
 * folder of its own holding the root disk overlay, the domain XML it was defined from, its NICs and
 * the serial console log (Nova's instances/<uuid>/ layout).
 * Must never build a path from anything but a configured folder and a validated UUID, and never return
 * a path outside that folder: destroy removes an instance folder recursively.
 */
import path from 'node:path';

import { assertImageId, assertUuid } from '../domain-spec.js';
import type { LibvirtHostConfig } from './host-config.js';

export interface InstancePaths {
  readonly dir: string;
  readonly disk: string;
  readonly domainXml: string;
  readonly consoleLog: string;
  /** The NICs the domain was defined with, for every later start to wire them again. */
  readonly nics: string;
}

export function instancePaths(
  host: Pick<LibvirtHostConfig, 'instancesDir'>,
  instanceId: string,
): InstancePaths {
  const dir = path.posix.join(host.instancesDir, assertUuid(instanceId, 'instanceId'));
  if (path.posix.dirname(dir) !== host.instancesDir)
    throw new Error(`${dir} is not directly in ${host.instancesDir}`);
  return {
    dir,
    disk: `${dir}/disk.qcow2`,
    domainXml: `${dir}/domain.xml`,
    consoleLog: `${dir}/console.log`,
    nics: `${dir}/nics.json`,
  };
}

/** The cached base image of an image id. */
export function cachedImagePath(host: Pick<LibvirtHostConfig, 'imageCacheDir'>, imageId: string): string {
  return path.posix.join(host.imageCacheDir, `${assertImageId(imageId)}.qcow2`);
}

/** Prefix of the partial files an upload of this image writes before its final rename. */
export function partialImagePrefix(imageId: string): string {
  return `.${assertImageId(imageId)}.part-`;
}
