/**
 * `event_store.client.streams.Streams`: Append, Read (reads and catch-up subscriptions), Delete and
 * Tombstone, and the routing of BatchAppend (batch-append.ts), answering exactly as EventStoreDB does
 * so the official client takes its normal code paths. Storage rules live in EventLog; this file
 * translates. Must never answer a write before it is durable.
 */
import { randomUUID } from 'node:crypto';

import * as grpc from '@grpc/grpc-js';

import type { EventLog } from '../storage/event-log.js';
import type { GroupCommit } from '../storage/group-commit.js';
import type {
  AppendOutcome,
  DeleteOutcome,
  ExpectedRevision,
  ProposedEvent,
  RecordedEvent,
} from '../storage/records.js';
import { serveBatchAppend } from './batch-append.js';
import * as errors from './errors.js';
import { FilterError, filterFrom } from './filters.js';
import {
  type AppendReq,
  type AppendResp,
  type BatchAppendReq,
  type BatchAppendResp,
  type DeleteReq,
  type TombstoneReq,
  empty,
  expectedFromAppend,
  expectedFromDelete,
  expectedFromTombstone,
  streamNameOf,
  streamsPb,
} from './protocol.js';
import { appendSize, isProblem, type ProposalProblem, problemError, toProposedEvent } from './proposals.js';
import { type ReadCall, type ReadPlan, ReadSession } from './read-session.js';

export interface StreamsServiceOptions {
  /** Largest total of event data and metadata one append may carry (EventStoreDB's default: 1 MiB). */
  readonly maxAppendSize: number;
}

export class StreamsService {
  private readonly sessions = new Set<ReadSession>();
  private readonly byStream = new Map<string, Set<ReadSession>>();

  constructor(
    private readonly log: EventLog,
    private readonly writes: GroupCommit,
    private readonly options: StreamsServiceOptions,
  ) {
    // The writers hear first: their answers go out in this turn's promise callbacks, and the
    // subscriptions are woken after them, so an append's latency never includes the fan-out.
    log.onCommit((records) => {
      setImmediate(() => {
        this.wakeSubscribers(records);
      });
    });
  }

  /** Ends every open read and subscription with UNAVAILABLE, as a server shutting down does. */
  closeAll(): void {
    for (const session of [...this.sessions]) session.abort(errors.unavailable('server is shutting down'));
  }

  readonly handlers: grpc.UntypedServiceImplementation = {
    read: (call: ReadCall) => {
      this.read(call);
    },
    append: (
      call: grpc.ServerReadableStream<AppendReq, AppendResp>,
      callback: grpc.sendUnaryData<AppendResp>,
    ) => {
      this.append(call, callback);
    },
    batchAppend: (call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => {
      serveBatchAppend(call, {
        log: this.log,
        writes: this.writes,
        maxAppendSize: this.options.maxAppendSize,
      });
    },
    delete: (
      call: grpc.ServerUnaryCall<DeleteReq, streamsPb.DeleteResp>,
      callback: grpc.sendUnaryData<streamsPb.DeleteResp>,
    ) => {
      const options = call.request.getOptions();
      void this.remove(
        options && streamNameOf(options.getStreamIdentifier()),
        options && expectedFromDelete(options),
        {
          run: (stream, expected) => this.log.delete(stream, expected),
          respond: (position) => callback(null, deleteResponse(position)),
          fail: (error) => callback(error),
        },
      );
    },
    tombstone: (
      call: grpc.ServerUnaryCall<TombstoneReq, streamsPb.TombstoneResp>,
      callback: grpc.sendUnaryData<streamsPb.TombstoneResp>,
    ) => {
      const options = call.request.getOptions();
      void this.remove(
        options && streamNameOf(options.getStreamIdentifier()),
        options && expectedFromTombstone(options),
        {
          run: (stream, expected) => this.log.tombstone(stream, expected),
          respond: (position) => callback(null, tombstoneResponse(position)),
          fail: (error) => callback(error),
        },
      );
    },
  };

  private read(call: ReadCall): void {
    const options = call.request.getOptions();
    if (!options) {
      call.emit('error', errors.invalidArgument('read request without options'));
      return;
    }
    let plan: ReadPlan;
    try {
      plan = readPlanFrom(options);
    } catch (error) {
      const message =
        error instanceof FilterError || error instanceof RangeError ? error.message : String(error);
      call.emit('error', errors.invalidArgument(message));
      return;
    }
    const session = new ReadSession(call, this.log, plan, (closed) => {
      this.forget(closed);
    });
    this.sessions.add(session);
    const stream = session.stream;
    if (stream !== null && session.isSubscription) {
      let watchers = this.byStream.get(stream);
      if (!watchers) this.byStream.set(stream, (watchers = new Set()));
      watchers.add(session);
    }
    session.start(randomUUID()).catch((error: unknown) => {
      call.emit('error', errors.internal(String(error)));
      session.close();
    });
  }

  private forget(session: ReadSession): void {
    this.sessions.delete(session);
    const stream = session.stream;
    if (stream === null) return;
    const watchers = this.byStream.get(stream);
    watchers?.delete(session);
    if (watchers?.size === 0) this.byStream.delete(stream);
  }

  private wakeSubscribers(records: readonly RecordedEvent[]): void {
    const streams = new Set(records.map((record) => record.stream));
    for (const session of this.sessions) {
      if (session.stream === null) session.wake();
    }
    for (const stream of streams) {
      const watchers = this.byStream.get(stream);
      if (watchers) for (const session of watchers) session.wake();
    }
  }

  private append(
    call: grpc.ServerReadableStream<AppendReq, AppendResp>,
    callback: grpc.sendUnaryData<AppendResp>,
  ): void {
    let stream: string | null = null;
    let expected: ExpectedRevision = { kind: 'any' };
    const events: ProposedEvent[] = [];
    let problem: ProposalProblem | null = null;

    call.on('data', (request: AppendReq) => {
      const options = request.getOptions();
      if (options) {
        stream = streamNameOf(options.getStreamIdentifier());
        expected = expectedFromAppend(options);
        return;
      }
      const message = request.getProposedMessage();
      if (!message || problem) return;
      const proposed = toProposedEvent(message);
      if (isProblem(proposed)) problem = proposed;
      else events.push(proposed);
    });
    call.on('end', () => {
      const target = stream;
      if (!target) {
        callback(errors.invalidArgument('append must start with options naming a stream'));
        return;
      }
      if (problem) {
        callback(problemError(problem));
        return;
      }
      if (appendSize(events) > this.options.maxAppendSize) {
        callback(errors.maximumAppendSizeExceeded(this.options.maxAppendSize));
        return;
      }
      this.writes
        .submit(() => this.log.append(target, expected, events))
        .then((outcome) => {
          if (outcome.kind === 'stream_deleted') callback(errors.streamDeleted(target));
          else callback(null, appendResponse(outcome));
        })
        .catch((error: unknown) => {
          callback(errors.unavailable(`append failed: ${String(error)}`));
        });
    });
    call.on('error', () => {
      /* the client went away; nothing was submitted */
    });
  }

  /** Delete and Tombstone share everything but the storage call and the response class. */
  private async remove(
    stream: string | undefined,
    expected: ExpectedRevision | undefined,
    handler: {
      run: (stream: string, expected: ExpectedRevision) => DeleteOutcome;
      respond: (position: bigint | null) => void;
      fail: (error: errors.RpcError) => void;
    },
  ): Promise<void> {
    if (!stream || !expected) {
      handler.fail(errors.invalidArgument('delete request without a stream'));
      return;
    }
    let outcome: DeleteOutcome;
    try {
      outcome = await this.writes.submit(() => handler.run(stream, expected));
    } catch (error) {
      handler.fail(errors.unavailable(`delete failed: ${String(error)}`));
      return;
    }
    switch (outcome.kind) {
      case 'stream_deleted':
        handler.fail(errors.streamDeleted(stream));
        return;
      case 'wrong_expected_version':
        handler.fail(errors.wrongExpectedVersion(stream, outcome.expected, outcome.current));
        return;
      case 'success':
        handler.respond(outcome.position);
    }
  }
}

function deleteResponse(at: bigint | null): streamsPb.DeleteResp {
  const response = new streamsPb.DeleteResp();
  if (at === null) response.setNoPosition(empty());
  else {
    const position = new streamsPb.DeleteResp.Position();
    position.setCommitPosition(at.toString());
    position.setPreparePosition(at.toString());
    response.setPosition(position);
  }
  return response;
}

function tombstoneResponse(at: bigint | null): streamsPb.TombstoneResp {
  const response = new streamsPb.TombstoneResp();
  if (at === null) response.setNoPosition(empty());
  else {
    const position = new streamsPb.TombstoneResp.Position();
    position.setCommitPosition(at.toString());
    position.setPreparePosition(at.toString());
    response.setPosition(position);
  }
  return response;
}

function appendResponse(outcome: Exclude<AppendOutcome, { kind: 'stream_deleted' }>): AppendResp {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'wrong_expected_version') {
    const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
    if (outcome.current === null) wrong.setCurrentNoStream(empty());
    else wrong.setCurrentRevision(outcome.current.toString());
    const { expected } = outcome;
    switch (expected.kind) {
      case 'any':
        wrong.setExpectedAny(empty());
        break;
      case 'no_stream':
        wrong.setExpectedNoStream(empty());
        break;
      case 'stream_exists':
        wrong.setExpectedStreamExists(empty());
        break;
      case 'exact':
        wrong.setExpectedRevision(expected.revision.toString());
        break;
    }
    response.setWrongExpectedVersion(wrong);
    return response;
  }
  const success = new streamsPb.AppendResp.Success();
  if (outcome.revision === null) success.setNoStream(empty());
  else success.setCurrentRevision(outcome.revision.toString());
  if (outcome.position === null) success.setNoPosition(empty());
  else {
    const position = new streamsPb.AppendResp.Position();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  }
  response.setSuccess(success);
  return response;
}

function readPlanFrom(options: streamsPb.ReadReq.Options): ReadPlan {
  const Options = streamsPb.ReadReq.Options;
  const direction = options.getReadDirection() === Options.ReadDirection.BACKWARDS ? 'backwards' : 'forwards';
  const structuredIds = options.getUuidOption()?.hasStructured() ?? false;
  const subscription = options.hasSubscription();
  const count = subscription ? null : BigInt(options.getCount() || '0');
  const filter = filterFrom(options);

  if (options.hasStream()) {
    const streamOptions = options.getStream();
    if (!streamOptions) throw new RangeError('stream read without stream options');
    const stream = streamNameOf(streamOptions.getStreamIdentifier());
    if (!stream) throw new RangeError('stream read without a stream name');
    const Case = Options.StreamOptions.RevisionOptionCase;
    const revisionCase = streamOptions.getRevisionOptionCase();
    const from =
      revisionCase === Case.REVISION
        ? BigInt(streamOptions.getRevision())
        : revisionCase === Case.END
          ? ('end' as const)
          : ('start' as const);
    return { source: { kind: 'stream', stream, from }, direction, count, filter: null, structuredIds };
  }
  const allOptions = options.getAll();
  if (!allOptions) throw new RangeError('read request names neither a stream nor $all');
  const Case = Options.AllOptions.AllOptionCase;
  const allCase = allOptions.getAllOptionCase();
  const from =
    allCase === Case.POSITION
      ? BigInt(allOptions.getPosition()?.getCommitPosition() ?? '0')
      : allCase === Case.END
        ? ('end' as const)
        : ('start' as const);
  return { source: { kind: 'all', from }, direction, count, filter, structuredIds };
}
