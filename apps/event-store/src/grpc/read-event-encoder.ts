/**
 * The hot path of every read and subscription: a recorded event encoded straight into the bytes of
 * a `ReadResp { event: ReadEvent { event: RecordedEvent, commit_position } }`, field for field what
 * the generated `serializeBinary()` writes, without building a message object graph per event.
 * A test decodes these bytes with the client's own generated classes and compares them with the
 * generated serializer's output, byte for byte.
 *
 * Field numbers (streams.proto / shared.proto):
 *   ReadResp.event = 1; ReadEvent.event = 1, ReadEvent.commit_position = 3;
 *   RecordedEvent: id = 1, stream_identifier = 2, stream_revision = 3, prepare_position = 4,
 *   commit_position = 5, metadata = 6 (map<string,string>: key = 1, value = 2), custom_metadata = 7,
 *   data = 8; UUID: structured = 1 (most = 1, least = 2, int64), string = 2;
 *   StreamIdentifier.stream_name = 3.
 */
import type { RecordedEvent } from '../storage/records.js';

const VARINT = 0;
const LENGTH_DELIMITED = 2;

const tag = (field: number, wireType: number): number => (field << 3) | wireType;

/** Unsigned 64-bit value as protobuf writes it: int64 fields go in two's complement. */
const unsigned = (value: bigint): bigint => BigInt.asUintN(64, value);

function varintSize(value: bigint): number {
  let size = 1;
  for (let rest = unsigned(value) >> 7n; rest > 0n; rest >>= 7n) size += 1;
  return size;
}

const smallVarintSize = (value: number): number =>
  value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;

/** Size of a length-delimited field whose body is `length` bytes (single-byte tag). */
const delimited = (length: number): number => 1 + smallVarintSize(length) + length;

/** Writes into one buffer sized up front: no intermediate message objects, one allocation. */
class Cursor {
  private offset = 0;
  constructor(readonly buffer: Buffer) {}

  varint(value: bigint | number): void {
    const wide = typeof value === 'bigint' ? unsigned(value) : value;
    if (typeof wide === 'number' || wide <= BigInt(Number.MAX_SAFE_INTEGER)) {
      let rest = Number(wide);
      while (rest > 0x7f) {
        this.buffer[this.offset++] = (rest % 0x80) | 0x80;
        rest = Math.floor(rest / 0x80);
      }
      this.buffer[this.offset++] = rest;
      return;
    }
    let rest = wide;
    while (rest > 0x7fn) {
      this.buffer[this.offset++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buffer[this.offset++] = Number(rest);
  }

  header(field: number, length: number): void {
    this.buffer[this.offset++] = tag(field, LENGTH_DELIMITED);
    this.varint(length);
  }

  bytes(field: number, value: Uint8Array): void {
    this.header(field, value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
  }

  uint64(field: number, value: bigint): void {
    this.buffer[this.offset++] = tag(field, VARINT);
    this.varint(value);
  }
}

interface Parts {
  readonly id: Buffer;
  readonly mostBits: bigint;
  readonly leastBits: bigint;
  readonly structured: boolean;
  readonly stream: Buffer;
  readonly entries: readonly (readonly [Buffer, Buffer])[];
}

const KEY_TYPE = Buffer.from('type');
const KEY_CONTENT_TYPE = Buffer.from('content-type');
const KEY_CREATED = Buffer.from('created');

/** Body of UUID.Structured: two int64 varint fields. */
const structuredSize = (parts: Parts): number =>
  1 + varintSize(parts.mostBits) + 1 + varintSize(parts.leastBits);

/** Body of the UUID message: either the structured form (field 1) or the string (field 2). */
const uuidSize = (parts: Parts): number =>
  parts.structured ? delimited(structuredSize(parts)) : delimited(parts.id.length);

const entrySize = ([key, value]: readonly [Buffer, Buffer]): number =>
  delimited(key.length) + delimited(value.length);

/** The wire bytes of the ReadResp that carries `record`. */
export function encodeReadEvent(record: RecordedEvent, structuredIds: boolean): Buffer {
  const raw = structuredIds ? Buffer.from(record.id.replaceAll('-', ''), 'hex') : null;
  const parts: Parts = {
    id: Buffer.from(record.id, 'latin1'),
    mostBits: raw ? raw.readBigInt64BE(0) : 0n,
    leastBits: raw ? raw.readBigInt64BE(8) : 0n,
    structured: structuredIds,
    stream: Buffer.from(record.stream, 'utf8'),
    // Map entries in key order, as the generated serializer writes them.
    entries: [
      [KEY_CONTENT_TYPE, Buffer.from(record.contentType, 'utf8')],
      [KEY_CREATED, Buffer.from(record.created.toString(), 'latin1')],
      [KEY_TYPE, Buffer.from(record.type, 'utf8')],
    ],
  };
  const numbers: [number, bigint][] = [
    [3, record.revision],
    [4, record.position],
    [5, record.position],
  ];

  const uuidBody = uuidSize(parts);
  const streamBody = delimited(parts.stream.length);
  const recordedBody =
    delimited(uuidBody) +
    delimited(streamBody) +
    numbers.reduce((size, [, value]) => size + (value === 0n ? 0 : 1 + varintSize(value)), 0) +
    parts.entries.reduce((size, entry) => size + delimited(entrySize(entry)), 0) +
    (record.metadata.length > 0 ? delimited(record.metadata.length) : 0) +
    (record.data.length > 0 ? delimited(record.data.length) : 0);
  const readEventBody = delimited(recordedBody) + 1 + varintSize(record.position);

  const out = new Cursor(Buffer.allocUnsafe(delimited(readEventBody)));
  out.header(1, readEventBody);
  out.header(1, recordedBody);
  out.header(1, uuidBody);
  if (parts.structured) {
    out.header(1, structuredSize(parts));
    out.uint64(1, parts.mostBits);
    out.uint64(2, parts.leastBits);
  } else {
    out.bytes(2, parts.id);
  }
  out.header(2, streamBody);
  out.bytes(3, parts.stream);
  for (const [field, value] of numbers) if (value !== 0n) out.uint64(field, value);
  for (const entry of parts.entries) {
    out.header(6, entrySize(entry));
    out.bytes(1, entry[0]);
    out.bytes(2, entry[1]);
  }
  if (record.metadata.length > 0) out.bytes(7, record.metadata);
  if (record.data.length > 0) out.bytes(8, record.data);
  out.uint64(3, record.position);
  return out.buffer;
}
