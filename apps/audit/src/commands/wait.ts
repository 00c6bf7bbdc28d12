/**
 * `wait <server> --status ACTIVE`: waits for a server to reach a status by watching the API's servers
 * watch instead of polling the server, resuming from the last version it was sent if the connection
 * drops. Exit status 0 when the server gets there, 1 when it ends elsewhere (ERROR, deleted), does not
 * exist for these credentials, or the time runs out; 2 on bad input.
 */
import { type AuditIo, type AuditOptions, UsageError, credentialsFrom } from '../cli.js';
import { FeedRefused, readFeed } from '../feed-client.js';
import { login } from '../keystone.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const STATUSES = new Set(['ACTIVE', 'SHUTOFF', 'ERROR', 'BUILD', 'REBOOT', 'HARD_REBOOT', 'DELETED']);

type Outcome = { readonly reached: boolean; readonly message: string };

export async function waitFor(server: string, options: AuditOptions, io: AuditIo): Promise<number> {
  if (!UUID.test(server)) throw new UsageError(`wait takes a server id (a UUID), got ${server}`);
  const wanted = (options.status ?? 'ACTIVE').toUpperCase();
  if (!STATUSES.has(wanted)) throw new UsageError(`--status must be one of ${[...STATUSES].join(', ')}`);
  const seconds = options.timeout === undefined ? 600 : Number(options.timeout);
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new UsageError('--timeout must be a whole number of seconds');
  const id = server.toLowerCase();
  const session = await login(credentialsFrom(io));

  const stop = new AbortController();
  io.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  const timer = setTimeout(() => stop.abort(), seconds * 1000);
  // Changed by the callbacks while the feed is read.
  const state: { outcome: Outcome | null; version: string | null; listed: boolean; seen: boolean } = {
    outcome: null,
    version: null,
    listed: false,
    seen: false,
  };
  const settle = (result: Outcome): void => {
    state.outcome = result;
    stop.abort();
  };
  const onLine = (line: Record<string, unknown>): void => {
    if (typeof line.resourceVersion === 'string') state.version = line.resourceVersion;
    if (line.type === 'BOOKMARK') {
      if (!state.listed && !state.seen) void checkExists();
      state.listed = true;
      return;
    }
    const object = line.object as { server?: Record<string, unknown> } | undefined;
    const shown = object?.server;
    if (shown?.id !== id) return;
    state.seen = true;
    const status = String(shown.status);
    io.warn(`${id}: ${String(line.type)} ${status}`);
    if (status === wanted || (wanted === 'DELETED' && line.type === 'DELETED'))
      settle({ reached: true, message: `${id} is ${wanted}` });
    else if (line.type === 'DELETED') settle({ reached: false, message: `${id} was deleted` });
    else if (status === 'ERROR') {
      const fault = shown.fault as { message?: string } | undefined;
      settle({ reached: false, message: `${id} is ERROR${fault?.message ? `: ${fault.message}` : ''}` });
    }
  };
  // Not in the list: it may be too new for the list's read model, or not exist for these credentials.
  const checkExists = async (): Promise<void> => {
    const response = await fetch(`${session.apiUrl}/v2.1/servers/${id}`, {
      headers: { 'X-Auth-Token': session.token, Accept: 'application/json' },
    }).catch(() => null);
    if (response?.status === 404 && !state.seen) settle({ reached: false, message: `no server ${id}` });
  };

  const stopped = (): boolean => stop.signal.aborted;
  try {
    while (!stopped()) {
      const url = `${session.apiUrl}/v2.1/servers/watch${state.version === null ? '' : `?resourceVersion=${state.version}`}`;
      const end = await readFeed(url, session.token, onLine, stop.signal);
      if (end.kind === 'cut' && !stopped()) {
        io.warn(`wait: connection lost (${end.reason}); resuming`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } catch (error) {
    if (!(error instanceof FeedRefused)) throw error;
    settle({ reached: false, message: error.message });
  } finally {
    clearTimeout(timer);
  }
  const result: Outcome = state.outcome ?? {
    reached: false,
    message: io.signal?.aborted ? 'stopped' : `${id} did not become ${wanted} within ${seconds} s`,
  };
  io.write(
    options.json ? `${JSON.stringify({ server: id, status: wanted, ...result })}\n` : `${result.message}\n`,
  );
  return result.reached ? 0 : 1;
}
