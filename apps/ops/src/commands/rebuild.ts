/**
 * `ops rebuild servers`: has the API rebuild its server read model from the start of the store
 * while it keeps answering, and shows the progress it streams (events folded, events/s) until the
 * new table has taken the live one's place. Admin credentials as for the `openstack` CLI.
 */
import { login } from '../api.js';
import { UsageError, print, toJson } from '../cli.js';
import type { Command } from './command.js';

interface Progress {
  readonly events?: number;
  readonly servers?: number;
  readonly elapsedMs?: number;
  readonly eventsPerSec?: number;
  readonly done?: boolean;
  readonly error?: string;
}

export const rebuild: Command = {
  usage: 'rebuild servers [--json]',
  summary: 'rebuilds a read model of the API from zero while the API keeps answering',
  arity: [1, 1],
  async run(_client, [name], { json }) {
    if (name !== 'servers')
      throw new UsageError(`no read model ${name ?? ''}: the one to rebuild is servers`);
    const { origin, token } = await login();
    const response = await fetch(`${origin}/nimbus/v1/read-models/${name}/rebuild`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token },
    });
    if (response.status !== 200 || !response.body) {
      throw new Error(`the API refused the rebuild: HTTP ${response.status} ${await response.text()}`);
    }
    let last: Progress = {};
    let buffered = '';
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter((text) => text.trim() !== '')) {
        last = JSON.parse(line) as Progress;
        if (json) print(toJson(last, 0));
        else if (last.error === undefined) print(describe(last));
      }
    }
    if (last.error !== undefined || last.done !== true) {
      process.stderr.write(`ops: the rebuild failed: ${last.error ?? 'the API ended the stream early'}\n`);
      return 1;
    }
    return 0;
  },
};

function describe(progress: Progress): string {
  const seconds = ((progress.elapsedMs ?? 0) / 1000).toFixed(1);
  const head = progress.done ? 'rebuilt' : 'rebuilding';
  return `${head}: ${progress.events ?? 0} events, ${progress.servers ?? 0} servers, ${seconds} s, ${progress.eventsPerSec ?? 0} events/s`;
}
