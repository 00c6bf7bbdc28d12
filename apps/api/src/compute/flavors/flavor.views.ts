/**
 * Nova's flavor documents per microversion: the basic entry (`GET /flavors`), the full one (detail, show,
 * create), with `description` from 2.55, `extra_specs` from 2.61, and `swap` as 0 rather than "" from 2.75.
 */
import type { FlavorCreated, Plain } from '#libs/contracts';

import type { Microversion } from '../../common/http/microversion.js';
import { resourceLinks } from '../links.js';
import { FLAVOR_DESCRIPTION, FLAVOR_EXTRA_SPECS, FULL_UPDATE_RESPONSE } from '../microversions.js';

export function flavorBasic(
  base: string,
  flavor: Plain<FlavorCreated>,
  version: Microversion,
): Record<string, unknown> {
  return {
    id: flavor.flavorId,
    name: flavor.name,
    links: resourceLinks(base, 'flavors', flavor.flavorId),
    ...(version.atLeast(FLAVOR_DESCRIPTION) ? { description: flavor.description } : {}),
  };
}

export function flavorFull(
  base: string,
  flavor: Plain<FlavorCreated>,
  version: Microversion,
): Record<string, unknown> {
  const swap = version.atLeast(FULL_UPDATE_RESPONSE)
    ? flavor.swapMb
    : flavor.swapMb === 0
      ? ''
      : flavor.swapMb;
  return {
    id: flavor.flavorId,
    name: flavor.name,
    ram: flavor.ramMb,
    disk: flavor.diskGb,
    swap,
    'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeralGb,
    'OS-FLV-DISABLED:disabled': false,
    vcpus: flavor.vcpus,
    'os-flavor-access:is_public': flavor.isPublic,
    rxtx_factor: flavor.rxtxFactor,
    links: resourceLinks(base, 'flavors', flavor.flavorId),
    ...(version.atLeast(FLAVOR_DESCRIPTION) ? { description: flavor.description } : {}),
    ...(version.atLeast(FLAVOR_EXTRA_SPECS) ? { extra_specs: {} } : {}),
  };
}
