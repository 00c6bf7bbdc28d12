/**
 * `Streams.BatchAppend`: the duplex call the official client sends its appends through. Requests of
 * one batch share a correlation id and may be spread over several messages until `is_final`; each
 * finished batch is appended through the group commit and answered on the same call, failures as a
 * `google.rpc.Status` with the packed detail, as EventStoreDB sends them. The call ends once the
 * client has ended it and every batch is answered.
 * Must never answer a batch before its append is durable.
 */
import type * as grpc from '@grpc/grpc-js';

import type { EventLog } from '../storage/event-log.js';
import type { GroupCommit } from '../storage/group-commit.js';
import type { AppendOutcome, ExpectedRevision, ProposedEvent } from '../storage/records.js';
import * as errors from './errors.js';
import {
  type BatchAppendReq,
  type BatchAppendResp,
  codePb,
  expectedFromBatch,
  googleEmpty,
  rpcStatus,
  sharedPb,
  sharedWrongExpectedVersion,
  streamIdentifier,
  streamNameOf,
  streamsPb,
  uuidOf,
} from './protocol.js';
import { appendSize, isProblem, type ProposalProblem, problemMessage, toProposedEvent } from './proposals.js';

/** One batch as its messages arrive: options (any message may carry them), then events. */
interface Batch {
  stream: string | null;
  expected: ExpectedRevision;
  /** Milliseconds since the epoch; past it, the batch is refused with Timeout. */
  deadline: number | null;
  events: ProposedEvent[];
  /** The first event that cannot be stored; the batch is then refused whole. */
  problem: ProposalProblem | null;
}

const newBatch = (): Batch => ({
  stream: null,
  expected: { kind: 'any' },
  deadline: null,
  events: [],
  problem: null,
});

export interface BatchAppendDependencies {
  readonly log: EventLog;
  readonly writes: GroupCommit;
  readonly maxAppendSize: number;
}

export function serveBatchAppend(
  call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>,
  deps: BatchAppendDependencies,
): void {
  const batches = new Map<string, Batch>();
  let inFlight = 0;
  let ended = false;
  const endIfIdle = (): void => {
    if (ended && inFlight === 0) call.end();
  };

  call.on('data', (request: BatchAppendReq) => {
    const correlationId = uuidOf(request.getCorrelationId());
    if (!correlationId) {
      call.emit('error', errors.invalidArgument('batch append without a correlation id'));
      return;
    }
    let batch = batches.get(correlationId);
    if (!batch) {
      batch = newBatch();
      batches.set(correlationId, batch);
    }
    const options = request.getOptions();
    if (options) {
      batch.stream = streamNameOf(options.getStreamIdentifier());
      batch.expected = expectedFromBatch(options);
      const deadline = options.getDeadline();
      batch.deadline = deadline ? deadline.toDate().getTime() : null;
    }
    for (const message of request.getProposedMessagesList()) {
      if (batch.problem) break;
      const proposed = toProposedEvent(message);
      if (isProblem(proposed)) batch.problem = proposed;
      else batch.events.push(proposed);
    }
    if (!request.getIsFinal()) return;
    batches.delete(correlationId);
    inFlight += 1;
    void completeBatch(correlationId, batch, deps)
      .then((response) => {
        if (!call.destroyed && !call.writableEnded) call.write(response);
      })
      .finally(() => {
        inFlight -= 1;
        endIfIdle();
      });
  });
  call.on('end', () => {
    ended = true;
    endIfIdle();
  });
  call.on('error', () => {
    /* the client went away; completed batches were already durable */
  });
}

async function completeBatch(
  correlationId: string,
  batch: Batch,
  { log, writes, maxAppendSize }: BatchAppendDependencies,
): Promise<BatchAppendResp> {
  const stream = batch.stream ?? '';
  const response = new streamsPb.BatchAppendResp();
  response.setCorrelationId(uuidFrom(correlationId));
  response.setStreamIdentifier(streamIdentifier(stream));
  const fail = (
    code: codePb.Code,
    message: string,
    detail: { serializeBinary(): Uint8Array },
    typeName: string,
  ) => {
    response.setError(rpcStatus(code, message, detail, typeName));
    return response;
  };

  if (!batch.stream) {
    return fail(
      codePb.Code.INVALID_ARGUMENT,
      'batch without options',
      new sharedPb.Unknown(),
      'event_store.client.Unknown',
    );
  }
  if (batch.problem) {
    const message = problemMessage(batch.problem);
    const detail = new sharedPb.BadRequest();
    detail.setMessage(message);
    return fail(codePb.Code.INVALID_ARGUMENT, message, detail, 'event_store.client.BadRequest');
  }
  if (appendSize(batch.events) > maxAppendSize) {
    const detail = new sharedPb.MaximumAppendSizeExceeded();
    detail.setMaxappendsize(maxAppendSize);
    return fail(
      codePb.Code.INVALID_ARGUMENT,
      `Maximum Append Size of ${maxAppendSize} Exceeded.`,
      detail,
      'event_store.client.MaximumAppendSizeExceeded',
    );
  }
  if (batch.deadline !== null && Date.now() > batch.deadline) {
    return fail(
      codePb.Code.DEADLINE_EXCEEDED,
      'Deadline exceeded',
      new sharedPb.Timeout(),
      'event_store.client.Timeout',
    );
  }

  let outcome: AppendOutcome;
  try {
    outcome = await writes.submit(() => log.append(stream, batch.expected, batch.events));
  } catch (error) {
    return fail(
      codePb.Code.UNAVAILABLE,
      `append failed: ${String(error)}`,
      new sharedPb.Unknown(),
      'event_store.client.Unknown',
    );
  }
  switch (outcome.kind) {
    case 'stream_deleted': {
      const detail = new sharedPb.StreamDeleted();
      detail.setStreamIdentifier(streamIdentifier(stream));
      return fail(
        codePb.Code.FAILED_PRECONDITION,
        `Event stream '${stream}' is deleted.`,
        detail,
        'event_store.client.StreamDeleted',
      );
    }
    case 'wrong_expected_version':
      return fail(
        codePb.Code.FAILED_PRECONDITION,
        'Append failed due to WrongExpectedVersion.',
        sharedWrongExpectedVersion(outcome.expected, outcome.current),
        'event_store.client.WrongExpectedVersion',
      );
    case 'success': {
      const success = new streamsPb.BatchAppendResp.Success();
      if (outcome.revision === null) success.setNoStream(googleEmpty());
      else success.setCurrentRevision(outcome.revision.toString());
      if (outcome.position === null) success.setNoPosition(googleEmpty());
      else {
        const position = new sharedPb.AllStreamPosition();
        position.setCommitPosition(outcome.position.toString());
        position.setPreparePosition(outcome.position.toString());
        success.setPosition(position);
      }
      response.setSuccess(success);
      return response;
    }
  }
}

function uuidFrom(id: string): sharedPb.UUID {
  const uuid = new sharedPb.UUID();
  uuid.setString(id);
  return uuid;
}
