/**
 * Glance v2's image document and list page, as Glance writes them: extra properties at the top level,
 * null checksums until data is stored, paths (not URLs) in `self`, `file` and `schema`.
 */
import type { ImageState } from '#libs/domain';

import { isoSeconds } from '../common/http/timestamps.js';

export function imageView(image: ImageState): Record<string, unknown> {
  return {
    ...image.properties,
    name: image.name,
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    visibility: image.visibility,
    size: image.size,
    virtual_size: null,
    status: image.status,
    checksum: image.checksum,
    protected: image.protected,
    min_ram: image.minRam,
    min_disk: image.minDisk,
    owner: image.owner,
    os_hidden: false,
    os_hash_algo: image.hashAlgo,
    os_hash_value: image.hashValue,
    id: image.id,
    created_at: isoSeconds(image.createdAt ?? new Date(0).toISOString()),
    updated_at: isoSeconds(image.updatedAt ?? new Date(0).toISOString()),
    tags: image.tags,
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  };
}

/** Glance's version list (300 Multiple Choices), every entry pointing at this API's `/v2/`. */
export function imageVersions(imageBaseUrl: string): Record<string, unknown> {
  const ids = ['v2.15', 'v2.9', 'v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0'];
  return {
    versions: ids.map((id, index) => ({
      id,
      status: index === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href: `${imageBaseUrl}/v2/` }],
    })),
  };
}
