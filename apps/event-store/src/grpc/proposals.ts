/**
 * Proposed events as Append and BatchAppend receive them: read into the storage's ProposedEvent, or
 * the reason one cannot be stored (no valid id, missing `type`/`content-type`), and the size an append
 * is held to. Shared by both write calls so they refuse the same things the same way.
 */
import type { ProposedEvent } from '../storage/records.js';
import * as errors from './errors.js';
import { type streamsPb, uuidOf } from './protocol.js';

type ProposedMessage = streamsPb.AppendReq.ProposedMessage | streamsPb.BatchAppendReq.ProposedMessage;

/** Why a proposed event cannot be stored, in the client's error vocabulary. */
export type ProposalProblem =
  { kind: 'missing-metadata'; properties: string[] } | { kind: 'invalid'; message: string };

export function toProposedEvent(message: ProposedMessage): ProposedEvent | ProposalProblem {
  const id = uuidOf(message.getId());
  if (!id) return { kind: 'invalid', message: 'every event needs a valid UUID id' };
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  const contentType = metadata.get('content-type');
  const missing = [!type ? 'type' : null, !contentType ? 'content-type' : null].filter(
    (value): value is string => value !== null,
  );
  if (missing.length > 0 || !type || !contentType) return { kind: 'missing-metadata', properties: missing };
  return {
    id,
    type,
    contentType,
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
}

export const isProblem = (value: ProposedEvent | ProposalProblem): value is ProposalProblem =>
  'kind' in value;

/** What EventStoreDB's maximum append size counts: event data and metadata. */
export const appendSize = (events: readonly ProposedEvent[]): number =>
  events.reduce((total, event) => total + event.data.length + event.metadata.length, 0);

/** The problem as the error an Append call ends with. */
export function problemError(problem: ProposalProblem): errors.RpcError {
  return problem.kind === 'missing-metadata'
    ? errors.requiredMetadataMissing(problem.properties)
    : errors.invalidArgument(problem.message);
}

/** The problem as the message of a BatchAppend failure. */
export const problemMessage = (problem: ProposalProblem): string =>
  problem.kind === 'invalid' ? problem.message : `missing ${problem.properties.join(', ')}`;
