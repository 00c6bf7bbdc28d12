/**
 * Fetches base images from the image API (Glance v2) into the agent's local cache, so the driver
 * can copy them to hosts. Authenticates as the compute service (Keystone v3 password, project
 * scoped), checks the image is `active`, downloads `/v2/images/{id}/file` to a temporary file while
 * hashing it, and keeps it only if its size and `os_hash_value` match what the API declared.
 * Concurrent requests for one image share one download. Also publishes the images the agent makes of
 * servers' disks (uploads their data, or deletes them when the snapshot failed). Never logs the service
 * password or token.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { SingleFlight } from '#libs/concurrency';

import type { ImageChecksumAlgorithm, ImageSource } from '../hypervisor/index.js';
import {
  type ImagePublisher,
  type ImageResolver,
  ImageServiceUnreachable,
  ImageUnavailable,
  checkImageId,
} from './image-resolver.js';

export interface GlanceSettings {
  /** The image service's base URL, the part before `/v2/images`. */
  readonly imageApiUrl: string;
  /** Keystone v3, e.g. `http://127.0.0.1:8774/v3`. */
  readonly identityUrl: string;
  readonly user: string;
  readonly password: string;
  readonly project: string;
  readonly cacheDir: string;
}

interface ImageRecord {
  readonly status: string;
  readonly size: number | null;
  readonly os_hash_algo?: string | null;
  readonly os_hash_value?: string | null;
  readonly disk_format?: string | null;
}

export class GlanceImageResolver implements ImageResolver, ImagePublisher {
  private token: { value: string; expiresAt: number } | null = null;
  private readonly downloads = new SingleFlight<ImageSource>();

  constructor(private readonly settings: GlanceSettings) {}

  async resolve(imageId: string): Promise<ImageSource> {
    checkImageId(imageId);
    return (await this.downloads.run(imageId, () => this.fetch(imageId))).value;
  }

  private async fetch(imageId: string): Promise<ImageSource> {
    const record = await this.json<ImageRecord>(`/v2/images/${imageId}`);
    if (record.status !== 'active')
      throw new ImageUnavailable(`image ${imageId} is ${record.status}, not active`);
    if (record.disk_format && record.disk_format !== 'qcow2') {
      throw new ImageUnavailable(`image ${imageId} is ${record.disk_format}; this cloud boots qcow2 images`);
    }
    const algorithm: ImageChecksumAlgorithm | null =
      record.os_hash_algo === 'sha256' || record.os_hash_algo === 'sha512' ? record.os_hash_algo : null;
    const expected = algorithm && record.os_hash_value ? { algorithm, hex: record.os_hash_value } : null;
    const target = join(this.settings.cacheDir, `${imageId}.qcow2`);
    const source = (): ImageSource => ({
      id: imageId,
      sourcePath: target,
      ...(record.size === null ? {} : { sizeBytes: record.size }),
      ...(expected ? { checksum: expected } : {}),
    });
    if (record.size !== null && (await stat(target).catch(() => null))?.size === record.size) return source();

    await mkdir(this.settings.cacheDir, { recursive: true });
    const partial = `${target}.${process.pid}.part`;
    const response = await this.request(`/v2/images/${imageId}/file`);
    if (!response.body) throw new ImageUnavailable(`image ${imageId} has no data`);
    const hash = createHash(algorithm ?? 'sha512');
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    try {
      await pipeline(body, createWriteStream(partial, { mode: 0o644 })).catch((error: unknown) => {
        // The service went away mid-download: the copy is simply done again once it is back.
        throw new ImageServiceUnreachable(
          `the download of image ${imageId} broke off: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      });
      const size = (await stat(partial)).size;
      if (record.size !== null && size !== record.size)
        throw new ImageUnavailable(`image ${imageId}: got ${size} bytes, expected ${record.size}`);
      if (expected && hash.digest('hex') !== expected.hex)
        throw new ImageUnavailable(`image ${imageId}: checksum mismatch`);
      await rename(partial, target);
    } finally {
      await rm(partial, { force: true });
    }
    return source();
  }

  async publish(imageId: string, file: string): Promise<void> {
    checkImageId(imageId);
    const record = await this.json<ImageRecord>(`/v2/images/${imageId}`);
    if (record.status === 'active') return; // uploaded before a crash kept it from being recorded
    const { size } = await stat(file);
    const response = await reach(`${this.settings.imageApiUrl}/v2/images/${imageId}/file`, {
      method: 'PUT',
      headers: {
        'X-Auth-Token': await this.serviceToken(),
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(size),
      },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    });
    await response.body?.cancel();
    if (response.status !== 204)
      throw new ImageUnavailable(
        `the image service refused the data of image ${imageId} (${response.status})`,
      );
  }

  async discard(imageId: string): Promise<void> {
    checkImageId(imageId);
    const response = await reach(`${this.settings.imageApiUrl}/v2/images/${imageId}`, {
      method: 'DELETE',
      headers: { 'X-Auth-Token': await this.serviceToken() },
    });
    await response.body?.cancel();
    if (response.status !== 204 && response.status !== 404)
      throw new ImageUnavailable(`the image service would not delete image ${imageId} (${response.status})`);
  }

  private async json<T>(path: string): Promise<T> {
    return (await (await this.request(path)).json()) as T;
  }

  private async request(path: string, retried = false): Promise<Response> {
    const response = await reach(`${this.settings.imageApiUrl}${path}`, {
      headers: { 'X-Auth-Token': await this.serviceToken() },
    });
    if (response.status === 401 && !retried) {
      this.token = null;
      return this.request(path, true);
    }
    if (response.status === 404) throw new ImageUnavailable(`image not found at ${path}`);
    if (!response.ok) throw new ImageUnavailable(`image API answered ${response.status} for ${path}`);
    return response;
  }

  private async serviceToken(): Promise<string> {
    if (this.token && this.token.expiresAt - Date.now() > 60_000) return this.token.value;
    const { user, password, project } = this.settings;
    const response = await reach(`${this.settings.identityUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: user, domain: { id: 'default' }, password } },
          },
          scope: { project: { name: project, domain: { id: 'default' } } },
        },
      }),
    });
    const value = response.headers.get('x-subject-token');
    if (response.status !== 201 || !value)
      throw new ImageUnavailable(`the compute service cannot authenticate (${response.status})`);
    const body = (await response.json()) as { token?: { expires_at?: string } };
    this.token = { value, expiresAt: Date.parse(body.token?.expires_at ?? '') || Date.now() + 300_000 };
    return value;
  }
}

/** `fetch`, with a refused connection or a 5xx answer (the service down or its store) told apart. */
async function reach(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ImageServiceUnreachable(`the image service cannot be reached: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw new ImageServiceUnreachable(`the image service answered ${response.status}`);
  }
  return response;
}
