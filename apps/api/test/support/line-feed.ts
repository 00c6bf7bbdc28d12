/**
 * A client of a JSON Lines response that stays open (the audit feed, the servers watch): it collects the
 * lines as they come, skips heartbeat blank lines, and can be cut like a dropped connection.
 */
import { eventually } from '../../../../test/support/eventually.js';

export interface LineFeed {
  readonly status: number;
  readonly lines: Record<string, unknown>[];
  /** Resolves when the server ends the response. */
  readonly ended: Promise<void>;
  isEnded(): boolean;
  /** Waits until at least `count` lines have arrived, or fails naming `what`. */
  waitFor(count: number, what: string, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  cut(): void;
}

export async function openLineFeed(url: string, token: string): Promise<LineFeed> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { 'X-Auth-Token': token, Accept: 'application/x-ndjson' },
    signal: controller.signal,
  });
  const lines: Record<string, unknown>[] = [];
  let ended = false;
  const reading = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
          newline = buffered.indexOf('\n');
        }
      }
    } catch {
      // Cut by the test, or by the server going away: the lines so far are what arrived.
    } finally {
      ended = true;
    }
  })();
  return {
    status: response.status,
    lines,
    ended: reading,
    isEnded: () => ended,
    async waitFor(count, what, timeoutMs = 15_000) {
      return eventually(what, () => (lines.length >= count ? lines.slice() : undefined), { timeoutMs });
    },
    cut() {
      controller.abort();
    },
  };
}
