/**
 * Errors as EventStoreDB sends them: a gRPC status plus trailers (`exception`, `stream-name`, ...)
 * that the official client turns into its typed errors. One place builds them all.
 */
import * as grpc from '@grpc/grpc-js';

import { type CurrentRevision, type ExpectedRevision } from '../storage/records.js';
import { expectedVersionNumber } from './protocol.js';

export type RpcError = Partial<grpc.StatusObject> & {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
};

function rpcError(code: grpc.status, details: string, trailers: Record<string, string>): RpcError {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return { code, details, metadata };
}

export const streamDeleted = (stream: string): RpcError =>
  rpcError(grpc.status.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, {
    exception: 'stream-deleted',
    'stream-name': stream,
  });

export function wrongExpectedVersion(
  stream: string,
  expected: ExpectedRevision,
  current: CurrentRevision,
): RpcError {
  const trailers: Record<string, string> = {
    exception: 'wrong-expected-version',
    'stream-name': stream,
    'expected-version': expectedVersionNumber(expected).toString(),
  };
  if (current !== null) trailers['actual-version'] = current.toString();
  return rpcError(
    grpc.status.FAILED_PRECONDITION,
    `Append failed due to WrongExpectedVersion. Stream: ${stream}, Expected version: ${trailers['expected-version'] ?? ''}, Actual version: ${current?.toString() ?? 'no stream'}`,
    trailers,
  );
}

export const maximumAppendSizeExceeded = (maxAppendSize: number): RpcError =>
  rpcError(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${maxAppendSize} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(maxAppendSize),
  });

export const requiredMetadataMissing = (properties: readonly string[]): RpcError =>
  rpcError(
    grpc.status.INVALID_ARGUMENT,
    `Required metadata properties are missing: ${properties.join(', ')}`,
    {
      exception: 'missing-required-metadata-property',
      'required-metadata-properties': properties.join(','),
    },
  );

export const invalidArgument = (details: string): RpcError =>
  rpcError(grpc.status.INVALID_ARGUMENT, details, {});

export const unavailable = (details: string): RpcError => rpcError(grpc.status.UNAVAILABLE, details, {});

export const internal = (details: string): RpcError => rpcError(grpc.status.INTERNAL, details, {});
