/**
 * Promise-shaped SFTP file operations on a host (ssh2's SFTPWrapper speaks callbacks), used for what
 * needs no shell at all: checking that a file exists, writing domain XML, streaming an image in.
 * Must never interpret a path: callers pass absolute paths they built from validated ids and config.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { SFTPWrapper, SftpStats as Stats } from '#libs/host-ssh';

import type { ImageChecksumAlgorithm } from '../hypervisor-driver.js';

/** SSH_FX_NO_SUCH_FILE (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;

function isNoSuchFile(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === NO_SUCH_FILE;
}

/** The file's attributes, or undefined when it does not exist. */
export function statIfExists(sftp: SFTPWrapper, path: string): Promise<Stats | undefined> {
  return new Promise((resolve, reject) => {
    sftp.stat(path, (error, stats) => {
      if (!error) resolve(stats);
      else if (isNoSuchFile(error)) resolve(undefined);
      else reject(error);
    });
  });
}

/** The file's text, or undefined when it does not exist. */
export function readRemoteFileIfExists(sftp: SFTPWrapper, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    sftp.readFile(path, { encoding: 'utf8' }, (error, content) => {
      if (!error) resolve(typeof content === 'string' ? content : content.toString('utf8'));
      else if (isNoSuchFile(error)) resolve(undefined);
      else reject(error);
    });
  });
}

export function writeRemoteFile(
  sftp: SFTPWrapper,
  path: string,
  content: string,
  mode: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.writeFile(path, content, { mode }, (error) => (error ? reject(error) : resolve()));
  });
}

/** Copies a file from the host to the agent's machine, replacing the local one. */
export function fastGet(sftp: SFTPWrapper, remotePath: string, localPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.fastGet(remotePath, localPath, (error) => (error ? reject(error) : resolve()));
  });
}

/** Removes a file; one that does not exist is fine. */
export function unlinkIfExists(sftp: SFTPWrapper, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.unlink(path, (error) => (error && !isNoSuchFile(error) ? reject(error) : resolve()));
  });
}

export function readRemoteDir(sftp: SFTPWrapper, path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    sftp.readdir(path, (error, entries) => (error ? reject(error) : resolve(entries.map((e) => e.filename))));
  });
}

export function chmodRemote(sftp: SFTPWrapper, path: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.chmod(path, mode, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Renames over any existing target in one step (OpenSSH's posix-rename extension), so a reader sees
 * either the old file or the complete new one; plain SFTP rename refuses an existing target.
 */
export function replaceRemoteFile(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.ext_openssh_rename(from, to, (error) => (error ? reject(error) : resolve()));
  });
}

export interface UploadResult {
  readonly bytes: number;
  /** Hex digests of exactly the bytes sent, one per algorithm asked for. */
  readonly digests: ReadonlyMap<ImageChecksumAlgorithm, string>;
}

/**
 * Streams a local file to a new remote file, hashing the bytes as they go, so the digest checked is
 * that of what was sent (one read of the source, not two).
 */
export async function uploadFile(
  sftp: SFTPWrapper,
  localPath: string,
  remotePath: string,
  options: { mode: number; algorithms: readonly ImageChecksumAlgorithm[] },
): Promise<UploadResult> {
  const meter = new HashingMeter(options.algorithms);
  await pipeline(
    createReadStream(localPath),
    meter,
    sftp.createWriteStream(remotePath, { mode: options.mode, flags: 'w' }),
  );
  return { bytes: meter.bytes, digests: meter.digests() };
}

/** Passes bytes through unchanged while counting and hashing them. */
class HashingMeter extends Transform {
  bytes = 0;
  private readonly hashes: Map<ImageChecksumAlgorithm, Hash>;

  constructor(algorithms: readonly ImageChecksumAlgorithm[]) {
    super();
    this.hashes = new Map(algorithms.map((algorithm) => [algorithm, createHash(algorithm)]));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    for (const hash of this.hashes.values()) hash.update(chunk);
    callback(null, chunk);
  }

  digests(): ReadonlyMap<ImageChecksumAlgorithm, string> {
    return new Map([...this.hashes].map(([algorithm, hash]) => [algorithm, hash.digest('hex')]));
  }
}
