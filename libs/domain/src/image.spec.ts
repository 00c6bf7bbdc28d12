import { randomUUID } from 'node:crypto';

import { ImageCreated, build } from '#libs/contracts';

import { ConflictingState } from './errors.js';
import {
  ImageNotFound,
  ImageProtected,
  decideActivate,
  decideDeleteImage,
  decideStartUpload,
  decideUploadFailed,
  imageReducer,
} from './image.js';
import { foldAll } from './testing/given.js';

const imageId = randomUUID();
const created = (overrides: Partial<ImageCreated> = {}) =>
  build(ImageCreated, {
    imageId,
    owner: 'p-1',
    name: 'nimbus-boot',
    visibility: 'private',
    diskFormat: 'raw',
    containerFormat: 'bare',
    minDisk: 0,
    minRam: 0,
    protected: false,
    properties: {},
    tags: [],
    ...overrides,
  });
const stored = {
  imageId,
  size: 512,
  checksum: 'e9e22304695a4706fe48aef2392d13d3',
  hashAlgo: 'sha512' as const,
  hashValue: 'a'.repeat(128),
};

describe('image aggregate', () => {
  it('goes queued, saving, active as Glance does', () => {
    expect(foldAll(imageReducer, [created()]).status).toBe('queued');
    const [started] = decideStartUpload(foldAll(imageReducer, [created()]), imageId);
    const saving = foldAll(imageReducer, [created(), started!]);
    expect(saving.status).toBe('saving');
    const [activated] = decideActivate(saving, stored);
    const active = foldAll(imageReducer, [created(), started!, activated!]);
    expect(active).toMatchObject({ status: 'active', size: 512, checksum: stored.checksum });
  });

  it('refuses a second upload to an active image', () => {
    const [started] = decideStartUpload(foldAll(imageReducer, [created()]), imageId);
    const active = foldAll(imageReducer, [
      created(),
      started!,
      ...decideActivate(foldAll(imageReducer, [created(), started!]), stored),
    ]);
    expect(() => decideStartUpload(active, imageId)).toThrow(
      new ConflictingState('Image status transition from active to saving is not allowed'),
    );
  });

  it('goes back to queued when an upload fails, so the client may try again', () => {
    const [started] = decideStartUpload(foldAll(imageReducer, [created()]), imageId);
    const saving = foldAll(imageReducer, [created(), started!]);
    const failed = foldAll(imageReducer, [
      created(),
      started!,
      ...decideUploadFailed(saving, imageId, 'cut off'),
    ]);
    expect(failed.status).toBe('queued');
    expect(decideStartUpload(failed, imageId)).toHaveLength(1);
  });

  it('refuses to delete a protected image and hides a deleted one', () => {
    expect(() => decideDeleteImage(foldAll(imageReducer, [created({ protected: true })]), imageId)).toThrow(
      ImageProtected,
    );
    const [deleted] = decideDeleteImage(foldAll(imageReducer, [created()]), imageId);
    const gone = foldAll(imageReducer, [created(), deleted!]);
    expect(gone.status).toBe('deleted');
    expect(() => decideDeleteImage(gone, imageId)).toThrow(ImageNotFound);
  });
});
