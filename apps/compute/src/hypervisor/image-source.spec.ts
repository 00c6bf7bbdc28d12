import { ImageVerificationFailed, InvalidArgument } from './errors.js';
import { validateImageSource, verifyChecksum, verifySize, verifyStandaloneQcow2 } from './image-source.js';

const ID = 'a3d2f0c1-5e6b-4f70-9182-736455aa0b1c';
const SHA256 = 'ab'.repeat(32);

describe(validateImageSource.name, () => {
  it('accepts an absolute source with optional size and checksum', () => {
    const image = {
      id: ID,
      sourcePath: '/var/lib/images/x.qcow2',
      sizeBytes: 0,
      checksum: { algorithm: 'sha256' as const, hex: SHA256 },
    };
    expect(validateImageSource(image)).toBe(image);
  });

  it.each([
    ['a non-UUID id', { id: 'cirros' }],
    ['a relative source', { sourcePath: 'x.qcow2' }],
    ['a negative size', { sizeBytes: -1 }],
    ['a fractional size', { sizeBytes: 1.5 }],
    ['a short digest', { checksum: { algorithm: 'sha256' as const, hex: 'ab' } }],
    ['an uppercase digest', { checksum: { algorithm: 'sha256' as const, hex: SHA256.toUpperCase() } }],
    ['an md5 checksum', { checksum: { algorithm: 'md5' as 'sha256', hex: 'ab'.repeat(16) } }],
  ])('refuses %s', (_what, change) => {
    expect(() => validateImageSource({ id: ID, sourcePath: '/x.qcow2', ...change })).toThrow(InvalidArgument);
  });
});

describe('image verdicts', () => {
  it('compare the declared size and digest only when declared', () => {
    expect(() => verifySize({ id: ID, sourcePath: '/x' }, 10)).not.toThrow();
    expect(() => verifySize({ id: ID, sourcePath: '/x', sizeBytes: 11 }, 10)).toThrow(
      ImageVerificationFailed,
    );
    const checksum = { algorithm: 'sha256' as const, hex: SHA256 };
    expect(() =>
      verifyChecksum({ id: ID, sourcePath: '/x', checksum }, new Map([['sha256', SHA256]])),
    ).not.toThrow();
    expect(() =>
      verifyChecksum({ id: ID, sourcePath: '/x', checksum }, new Map([['sha256', 'cd'.repeat(32)]])),
    ).toThrow(ImageVerificationFailed);
  });

  it('accept only a qcow2 without a backing file', () => {
    expect(() => verifyStandaloneQcow2(ID, 'qcow2', undefined)).not.toThrow();
    expect(() => verifyStandaloneQcow2(ID, 'raw', undefined)).toThrow(ImageVerificationFailed);
    expect(() => verifyStandaloneQcow2(ID, 'qcow2', '/etc/passwd')).toThrow(/backing file/);
  });
});
