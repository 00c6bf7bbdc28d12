/**
 * The shape of an ops command: its usage line, and a run that gets the store client, its positional
 * arguments and the parsed options, and returns the exit status (0 fine, 1 the store disagrees or a
 * thing is missing; bad input throws UsageError, which exits with 2 before anything is done).
 */
import type { EventStoreDBClient } from '@eventstore/db-client';

export interface Options {
  readonly json: boolean;
  readonly revision?: string;
  readonly at?: string;
  readonly prefix: readonly string[];
  readonly type: readonly string[];
  readonly out?: string;
  readonly limit?: number;
}

export interface Command {
  /** e.g. `history <stream|server>`. */
  readonly usage: string;
  readonly summary: string;
  /** How many positional arguments it takes: [at least, at most]. */
  readonly arity: readonly [number, number];
  run(client: EventStoreDBClient, args: readonly string[], options: Options): Promise<number>;
}
