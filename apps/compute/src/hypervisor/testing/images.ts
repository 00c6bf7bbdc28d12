/**
 * A qcow2 as the fake driver reads one: the magic, version 3, no backing file, padded like the
 * project's boot image. The fake never boots it, so the header is all that matters. Specs only.
 */
export function tinyQcow2(): Buffer {
  const bytes = Buffer.alloc(64 * 1024);
  bytes.writeUInt32BE(0x514649fb, 0);
  bytes.writeUInt32BE(3, 4);
  bytes.writeUInt32BE(112, 100);
  return bytes;
}
