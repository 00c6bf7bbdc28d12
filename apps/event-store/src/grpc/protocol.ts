/**
 * The EventStoreDB wire protocol as the official client ships it. Messages are built from the very
 * copy of the generated code that `@eventstore/db-client` loads, because the service serializers
 * check `instanceof` against those classes. Conversions between wire and storage types live here.
 */
import { createRequire } from 'node:module';

import type * as grpc from '@grpc/grpc-js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import featuresPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import featuresGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import codePb from '@eventstore/db-client/generated/code_pb.js';
import type { Any } from 'google-protobuf/google/protobuf/any_pb.js';

import type { ExpectedRevision, CurrentRevision, RecordedEvent } from '../storage/records.js';

// google-protobuf is the client's own dependency; resolve it from the client so `Any` is the same class.
const clientRequire = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
const anyPb = clientRequire('google-protobuf/google/protobuf/any_pb.js') as { Any: new () => Any };
const emptyPb = clientRequire('google-protobuf/google/protobuf/empty_pb.js') as {
  Empty: new () => import('google-protobuf/google/protobuf/empty_pb.js').Empty;
};

export { sharedPb, streamsPb, statusPb, featuresPb, codePb };
const generatedStreams = streamsGrpc.StreamsService as unknown as grpc.ServiceDefinition;
const generatedRead = generatedStreams.read as grpc.MethodDefinition<ReadReq, ReadResp>;

/**
 * The Streams service as generated, except that Read also accepts a response already encoded to
 * bytes (see read-event-encoder), which it sends as is.
 */
export const StreamsService: grpc.ServiceDefinition = {
  ...generatedStreams,
  read: {
    ...generatedRead,
    responseSerialize: (value: ReadResp | Buffer): Buffer =>
      Buffer.isBuffer(value) ? value : generatedRead.responseSerialize(value),
  },
};
export const ServerFeaturesService = featuresGrpc.ServerFeaturesService as unknown as grpc.ServiceDefinition;

export type ReadReq = streamsPb.ReadReq;
export type ReadResp = streamsPb.ReadResp;
export type AppendReq = streamsPb.AppendReq;
export type AppendResp = streamsPb.AppendResp;
export type BatchAppendReq = streamsPb.BatchAppendReq;
export type BatchAppendResp = streamsPb.BatchAppendResp;
export type DeleteReq = streamsPb.DeleteReq;
export type TombstoneReq = streamsPb.TombstoneReq;

/** Stream names travel as UTF-8 bytes. */
export function streamNameOf(identifier: sharedPb.StreamIdentifier | undefined): string {
  if (!identifier) return '';
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function streamIdentifier(name: string): sharedPb.StreamIdentifier {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(name, 'utf8'));
  return identifier;
}

/** Accepts both UUID encodings the protocol allows and returns the canonical lowercase string. */
export function uuidOf(uuid: sharedPb.UUID | undefined): string | null {
  if (!uuid) return null;
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured();
    if (!structured) return null;
    const bytes = Buffer.alloc(16);
    bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
    bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const text = uuid.getString().toLowerCase();
  return UUID_PATTERN.test(text) ? text : null;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function uuidMessage(id: string, structured: boolean): sharedPb.UUID {
  const uuid = new sharedPb.UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }
  const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
  const parts = new sharedPb.UUID.Structured();
  parts.setMostSignificantBits(bytes.readBigInt64BE(0).toString());
  parts.setLeastSignificantBits(bytes.readBigInt64BE(8).toString());
  uuid.setStructured(parts);
  return uuid;
}

export const empty = (): sharedPb.Empty => new sharedPb.Empty();
export const googleEmpty = (): import('google-protobuf/google/protobuf/empty_pb.js').Empty =>
  new emptyPb.Empty();

export function recordedEventMessage(
  record: RecordedEvent,
  structuredIds: boolean,
): streamsPb.ReadResp.ReadEvent.RecordedEvent {
  const message = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  message.setId(uuidMessage(record.id, structuredIds));
  message.setStreamIdentifier(streamIdentifier(record.stream));
  message.setStreamRevision(record.revision.toString());
  message.setPreparePosition(record.position.toString());
  message.setCommitPosition(record.position.toString());
  const metadata = message.getMetadataMap();
  metadata.set('type', record.type);
  metadata.set('content-type', record.contentType);
  metadata.set('created', record.created.toString());
  message.setData(record.data);
  message.setCustomMetadata(record.metadata);
  return message;
}

export function readEventResponse(record: RecordedEvent, structuredIds: boolean): ReadResp {
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  readEvent.setEvent(recordedEventMessage(record, structuredIds));
  readEvent.setCommitPosition(record.position.toString());
  const response = new streamsPb.ReadResp();
  response.setEvent(readEvent);
  return response;
}

/** The oneof cases each request type numbers its expected-revision choices with. */
interface RevisionCases {
  readonly REVISION?: number;
  readonly STREAM_POSITION?: number;
  readonly NO_STREAM: number;
  readonly STREAM_EXISTS: number;
}

function expectation(selected: number, cases: RevisionCases, revision: () => string): ExpectedRevision {
  if (selected === (cases.REVISION ?? cases.STREAM_POSITION))
    return { kind: 'exact', revision: BigInt(revision()) };
  if (selected === cases.NO_STREAM) return { kind: 'no_stream' };
  if (selected === cases.STREAM_EXISTS) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

export const expectedFromAppend = (options: streamsPb.AppendReq.Options): ExpectedRevision =>
  expectation(
    options.getExpectedStreamRevisionCase(),
    streamsPb.AppendReq.Options.ExpectedStreamRevisionCase,
    () => options.getRevision(),
  );

export const expectedFromBatch = (options: streamsPb.BatchAppendReq.Options): ExpectedRevision =>
  expectation(
    options.getExpectedStreamPositionCase(),
    streamsPb.BatchAppendReq.Options.ExpectedStreamPositionCase,
    () => options.getStreamPosition(),
  );

export const expectedFromDelete = (options: streamsPb.DeleteReq.Options): ExpectedRevision =>
  expectation(
    options.getExpectedStreamRevisionCase(),
    streamsPb.DeleteReq.Options.ExpectedStreamRevisionCase,
    () => options.getRevision(),
  );

export const expectedFromTombstone = (options: streamsPb.TombstoneReq.Options): ExpectedRevision =>
  expectation(
    options.getExpectedStreamRevisionCase(),
    streamsPb.TombstoneReq.Options.ExpectedStreamRevisionCase,
    () => options.getRevision(),
  );

/** The numbers EventStoreDB uses for symbolic expected versions in error trailers. */
export function expectedVersionNumber(expected: ExpectedRevision): bigint {
  switch (expected.kind) {
    case 'any':
      return -2n;
    case 'no_stream':
      return -1n;
    case 'stream_exists':
      return -4n;
    case 'exact':
      return expected.revision;
  }
}

/** The `WrongExpectedVersion` detail BatchAppend packs into its error status. */
export function sharedWrongExpectedVersion(
  expected: ExpectedRevision,
  current: CurrentRevision,
): sharedPb.WrongExpectedVersion {
  const detail = new sharedPb.WrongExpectedVersion();
  if (current === null) detail.setCurrentNoStream(googleEmpty());
  else detail.setCurrentStreamRevision(current.toString());
  switch (expected.kind) {
    case 'any':
      detail.setExpectedAny(googleEmpty());
      break;
    case 'no_stream':
      detail.setExpectedNoStream(googleEmpty());
      break;
    case 'stream_exists':
      detail.setExpectedStreamExists(googleEmpty());
      break;
    case 'exact':
      detail.setExpectedStreamPosition(expected.revision.toString());
      break;
  }
  return detail;
}

/** A google.rpc.Status with one packed detail, as BatchAppend reports failures. */
export function rpcStatus(
  code: codePb.Code,
  message: string,
  detail: { serializeBinary(): Uint8Array },
  typeName: string,
): statusPb.Status {
  const status = new statusPb.Status();
  status.setCode(code);
  status.setMessage(message);
  const packed = new anyPb.Any();
  packed.pack(detail.serializeBinary(), typeName);
  status.setDetails(packed);
  return status;
}
