/**
 * Leases on a real nats-server: one holder per key; a lease kept by renewal and only by it; a lease
 * left unrenewed taken over by another holder once the server let it lapse, and never before; the
 * lapsed holder's renewal refused; a released lease free at once; a holder restarted under its name
 * taking its predecessor's leases at once, and a second live process under that name never taking one
 * back; a keeper whose process was paused past its deadline acting no more from the moment it wakes.
 * Keys shared out among the live members of a group: evenly, handed over to a member that joins,
 * taken back from one that stops, and a member woken from a pause kept out of the share for a while
 * unless it is alone.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { type NatsConnection, connect } from '@nats-io/transport-node';

import { type Lease, LeaseBoard, LeaseKeeper } from '../src/index.js';
import { type NatsProcess, startNatsProcess } from '../../../test/support/nats-process.js';
import { eventually, sleep } from '../../../test/support/eventually.js';
import { startManagedProcess } from '../../../test/support/managed-process.js';

const TTL_MS = 2_000;
const MEMBERS = 'agent.';

let nats: NatsProcess;
const connections: NatsConnection[] = [];
let bucket: string;

async function board(holder: string, ttlMs = TTL_MS): Promise<LeaseBoard> {
  const connection = await connect({ servers: nats.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  connections.push(connection);
  return new LeaseBoard(connection, { holder, ttlMs, bucket });
}

/**
 * A process that keeps one lease with a LeaseKeeper (the built library) and prints, every 50 ms,
 * whether it may act on it, and each gain and loss.
 */
function holderScript(holder: string, key: string, sharedWith?: string[]): string {
  const library = pathToFileURL(join(process.cwd(), 'dist/libs/bus/src/index.js')).href;
  return `
    import { connect } from '@nats-io/transport-node';
    import { LeaseBoard, LeaseKeeper } from '${library}';
    const connection = await connect({ servers: '${nats.url}' });
    const say = (line) => process.stdout.write(JSON.stringify(line) + '\\n');
    const board = new LeaseBoard(connection, { holder: '${holder}', ttlMs: ${TTL_MS}, bucket: '${bucket}' });
    const keeper = new LeaseKeeper(
      board,
      { gained: (key) => say({ event: 'gained', key }), lost: (key) => say({ event: 'lost', key }) },
      ${sharedWith ? `{ memberPrefix: '${MEMBERS}' }` : 'undefined'},
    );
    const keys = ${JSON.stringify(sharedWith ?? [key])};
    await keeper.start(keys);
    setInterval(() => say({ holds: keeper.holds('${key}'), held: keeper.held(), at: Date.now() }), 50);
  `;
}

/** A keeper sharing `keys` in the group MEMBERS, with a log of what it gained and lost. */
async function sharingKeeper(holder: string, log: string[]): Promise<LeaseKeeper> {
  return new LeaseKeeper(
    await board(holder),
    {
      gained: (key) => void log.push(`${holder} gained ${key}`),
      lost: (key) => void log.push(`${holder} lost ${key}`),
    },
    { memberPrefix: MEMBERS },
  );
}

/** Blocks this whole process, event loop and timers alike, as SIGSTOP would. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

beforeAll(async () => {
  nats = await startNatsProcess();
});

beforeEach(() => {
  bucket = `leases_${randomUUID().slice(0, 8)}`;
});

afterAll(async () => {
  for (const connection of connections) await connection.close();
  await nats.stop();
});

describe(LeaseBoard.name, () => {
  it('grants a key to one holder at a time and says who holds it', async () => {
    const a = await board('agent-a');
    const b = await board('agent-b');
    const lease = await a.acquire('host.hv-1');
    expect(lease?.revision).toBeGreaterThan(0);
    expect(await b.acquire('host.hv-1')).toBeNull();
    expect(await b.holderOf('host.hv-1')).toMatchObject({ holder: 'agent-a', incarnation: a.incarnation });
    expect(await b.acquire('host.hv-2')).not.toBeNull();
  });

  it('keeps a renewed lease past its time to live, and lets an unrenewed one go only once it lapsed', async () => {
    const a = await board('agent-a');
    const b = await board('agent-b');
    let lease = (await a.acquire('host.hv-1')) as Lease;
    for (let round = 0; round < 6; round += 1) {
      await sleep(TTL_MS / 4);
      lease = (await a.renew(lease)) as Lease;
      expect(lease).not.toBeNull();
      expect(await b.acquire('host.hv-1')).toBeNull();
    }
    const lastRenewal = performance.now();
    let taken: Lease | null = null;
    await eventually(
      'the unrenewed lease taken over',
      async () => {
        taken = await b.acquire('host.hv-1');
        return taken ?? undefined;
      },
      { timeoutMs: TTL_MS * 4, intervalMs: 100 },
    );
    const takenAfterMs = performance.now() - lastRenewal;
    expect(takenAfterMs).toBeGreaterThanOrEqual(TTL_MS * 0.9);
    // The revision is the fencing token: the new grant's is greater than every older one's.
    expect(taken!.revision).toBeGreaterThan(lease.revision);
    expect(await a.renew(lease)).toBeNull();
    expect(await a.holderOf('host.hv-1')).toMatchObject({ holder: 'agent-b' });
  }, 30_000);

  it('frees a released lease at once, and a lost lease is not released by its old holder', async () => {
    const a = await board('agent-a');
    const b = await board('agent-b');
    const lease = (await a.acquire('host.hv-1')) as Lease;
    await a.release(lease);
    const taken = (await b.acquire('host.hv-1')) as Lease;
    expect(taken).not.toBeNull();
    await a.release(lease);
    expect(await a.holderOf('host.hv-1')).toMatchObject({ holder: 'agent-b', revision: taken.revision });
  });

  it("lets a holder restarted under its name take its predecessor's lease at once, but never a live twin's", async () => {
    const before = await board('agent-a');
    const held = (await before.acquire('host.hv-1')) as Lease;
    const restarted = await board('agent-a');
    const takenOver = (await restarted.acquire('host.hv-1')) as Lease;
    expect(takenOver.revision).toBeGreaterThan(held.revision);
    expect(await (await board('agent-b')).acquire('host.hv-1')).toBeNull();

    // The first process was alive after all: it sees its lease taken under its own name and stands back.
    expect(await before.renew(held)).toBeNull();
    expect(await restarted.renew(takenOver)).not.toBeNull();
    expect(await before.acquire('host.hv-1')).toBeNull();
  });

  it('refuses a time to live too short to renew within', async () => {
    await expect(board('agent-a', 10)).rejects.toThrow(/at least 1000/);
  });
});

describe(LeaseKeeper.name, () => {
  it('stops trusting a lease the moment its process wakes from SIGSTOP past the deadline, and learns it was lost', async () => {
    const holder = await startManagedProcess({
      name: 'lease-holder',
      argv: () => [process.execPath, '--input-type=module', '-e', holderScript('agent-a', 'host.hv-1')],
      ready: (line) => (line.includes('"gained"') ? 1 : undefined),
      startTimeoutMs: 20_000,
    });
    try {
      const rivalBoard = await board('agent-b');
      const rival = new LeaseKeeper(rivalBoard, { gained: () => undefined, lost: () => undefined });
      await rival.start(['host.hv-1']);
      expect(rival.holds('host.hv-1')).toBe(false);
      process.kill(holder.pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      await eventually('the rival takes the lapsed lease', () => rival.holds('host.hv-1') || undefined, {
        timeoutMs: TTL_MS * 4,
        intervalMs: 20,
      });
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(TTL_MS * 0.9);
      const resumedAt = Date.now();
      process.kill(holder.pid, 'SIGCONT');
      await eventually('the woken holder hears it lost the lease', () =>
        holder.output().includes('"lost"') ? true : undefined,
      );
      await sleep(TTL_MS);
      const probes = holder
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{"holds"'))
        .map((line) => JSON.parse(line) as { holds: boolean; at: number })
        .filter((probe) => probe.at >= resumedAt);
      expect(probes.length).toBeGreaterThan(5);
      // Not once after waking did it trust the lease, not even before its first renewal was answered.
      expect(probes.filter((probe) => probe.holds)).toEqual([]);
      expect(rival.holds('host.hv-1')).toBe(true);
      expect(await rivalBoard.holderOf('host.hv-1')).toMatchObject({ holder: 'agent-b' });
      await rival.stop();
    } finally {
      await holder.stop();
    }
  }, 30_000);

  it('keeps renewing every lease while taking one up is slow', async () => {
    let finishTakingUp: () => void = () => undefined;
    const keeper = new LeaseKeeper(await board('agent-a'), {
      gained: (key) =>
        key === 'host.hv-slow'
          ? new Promise<void>((resolve) => {
              finishTakingUp = resolve;
            })
          : undefined,
      lost: () => undefined,
    });
    const starting = keeper.start(['host.hv-slow', 'host.hv-2']);
    const rival = await board('agent-b');
    // Well past the time to live: had the slow take-up held the rounds back, both leases would lapse.
    for (let check = 0; check < 6; check += 1) {
      await sleep(TTL_MS / 2);
      expect(keeper.held().sort()).toEqual(['host.hv-2', 'host.hv-slow']);
      expect(await rival.acquire('host.hv-2')).toBeNull();
      expect(await rival.acquire('host.hv-slow')).toBeNull();
    }
    finishTakingUp();
    await starting;
    await keeper.stop();
  }, 30_000);

  it('takes a lease back after a pause when nobody took it meanwhile, and gives every lease up on stop', async () => {
    const events: string[] = [];
    const keeper = new LeaseKeeper(await board('agent-a'), {
      gained: (key) => void events.push(`gained ${key}`),
      lost: (key) => void events.push(`lost ${key}`),
    });
    await keeper.start(['host.hv-1', 'host.hv-2']);
    expect(keeper.held().sort()).toEqual(['host.hv-1', 'host.hv-2']);
    freeze(TTL_MS);
    expect(keeper.holds('host.hv-1')).toBe(false);
    await keeper.runRound();
    expect(keeper.held().sort()).toEqual(['host.hv-1', 'host.hv-2']);
    expect(events.filter((event) => event.endsWith('hv-1'))).toEqual([
      'gained host.hv-1',
      'lost host.hv-1',
      'gained host.hv-1',
    ]);

    await keeper.stop();
    expect(keeper.held()).toEqual([]);
    const other = await board('agent-b');
    expect(await other.acquire('host.hv-1')).not.toBeNull();
    expect(await other.acquire('host.hv-2')).not.toBeNull();
  }, 30_000);
});

describe(`${LeaseKeeper.name} sharing keys out`, () => {
  const keys = ['host.hv-1', 'host.hv-2', 'host.hv-3', 'host.hv-4'];

  it('shares the keys evenly with a member that joins, each handed over only after its holder let go', async () => {
    const log: string[] = [];
    const a = await sharingKeeper('agent-a', log);
    await a.start(keys);
    expect(a.held().sort()).toEqual(keys);

    const b = await sharingKeeper('agent-b', log);
    await b.start(keys);
    await eventually('the keys shared out', () => (b.held().length === 2 ? true : undefined), {
      timeoutMs: TTL_MS * 4,
      intervalMs: 20,
    });
    expect(a.held()).toHaveLength(2);
    expect([...a.held(), ...b.held()].sort()).toEqual(keys);
    for (const key of b.held()) {
      // a stopped acting on the key before b started.
      expect(log.indexOf(`agent-a lost ${key}`)).toBeGreaterThanOrEqual(0);
      expect(log.indexOf(`agent-a lost ${key}`)).toBeLessThan(log.indexOf(`agent-b gained ${key}`));
      expect(await (await board('observer')).holderOf(key)).toMatchObject({ holder: 'agent-b' });
    }
    // Stable once shared: nothing moves over several rounds.
    const shared = b.held().sort();
    await sleep(TTL_MS);
    expect(b.held().sort()).toEqual(shared);

    // A member that stops gives its keys up and leaves the share: the other takes them within a round or two.
    const stoppedAt = performance.now();
    await a.stop();
    await eventually(
      'the keys of the member that stopped taken',
      () => (b.held().length === 4 ? true : undefined),
      {
        timeoutMs: TTL_MS * 2,
        intervalMs: 20,
      },
    );
    expect(performance.now() - stoppedAt).toBeLessThan(TTL_MS);
    await b.stop();
  }, 30_000);

  it('keeps a member woken from a pause past its leases out of the share for a while, then shares again', async () => {
    const paused = await startManagedProcess({
      name: 'sharing-holder',
      argv: () => [process.execPath, '--input-type=module', '-e', holderScript('agent-a', 'host.hv-1', keys)],
      ready: (line) => (line.includes('"gained"') ? 1 : undefined),
      startTimeoutMs: 20_000,
    });
    const log: string[] = [];
    const b = await sharingKeeper('agent-b', log);
    try {
      await b.start(keys);
      await eventually('the keys shared out', () => (b.held().length === 2 ? true : undefined), {
        timeoutMs: TTL_MS * 4,
        intervalMs: 20,
      });
      process.kill(paused.pid, 'SIGSTOP');
      await eventually('the paused member keys taken', () => (b.held().length === 4 ? true : undefined), {
        timeoutMs: TTL_MS * 4,
        intervalMs: 20,
      });
      const resumedAt = Date.now();
      process.kill(paused.pid, 'SIGCONT');
      await sleep(TTL_MS * 2);
      const heldSince = (since: number): string[][] =>
        paused
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{"holds"'))
          .map((line) => JSON.parse(line) as { held: string[]; at: number })
          .filter((probe) => probe.at >= since)
          .map((probe) => probe.held);
      // Sitting out: for two times to live after waking it held nothing, and the other kept every key.
      expect(heldSince(resumedAt).length).toBeGreaterThan(10);
      expect(heldSince(resumedAt).filter((held) => held.length > 0)).toEqual([]);
      expect(b.held()).toHaveLength(4);
      // Then it joins the share again (five times to live after its lease lapsed).
      await eventually('the woken member shares again', () => (b.held().length === 2 ? true : undefined), {
        timeoutMs: TTL_MS * 8,
        intervalMs: 50,
      });
      await eventually('the woken member holds its share', () =>
        heldSince(Date.now() - 200).at(-1)?.length === 2 ? true : undefined,
      );
    } finally {
      await b.stop();
      await paused.stop();
    }
  }, 60_000);

  it('keeps renewing its leases while writing its member key and reading the members are slow', async () => {
    const slowBoard = await board('agent-a');
    const readMembers = slowBoard.members.bind(slowBoard);
    const renew = slowBoard.renew.bind(slowBoard);
    let slow = false;
    slowBoard.members = async (prefix) => {
      if (slow) await sleep(TTL_MS * 3);
      return readMembers(prefix);
    };
    // Its member key's writes too.
    slowBoard.renew = async (lease) => {
      if (slow && lease.key.startsWith(MEMBERS)) await sleep(TTL_MS * 3);
      return renew(lease);
    };
    const keeper = new LeaseKeeper(
      slowBoard,
      { gained: () => undefined, lost: () => undefined },
      { memberPrefix: MEMBERS },
    );
    await keeper.start(keys);
    expect(keeper.held().sort()).toEqual(keys);
    // As when a JetStream server is lost and its streams elect new leaders: well past the time to live.
    slow = true;
    const rival = await board('agent-b');
    for (let check = 0; check < 6; check += 1) {
      await sleep(TTL_MS / 2);
      expect(keeper.held().sort()).toEqual(keys);
      expect(await rival.acquire('host.hv-1')).toBeNull();
    }
    slow = false;
    await keeper.stop();
  }, 30_000);

  it('lets a lone member woken from a pause take its keys straight back', async () => {
    const log: string[] = [];
    const keeper = await sharingKeeper('agent-a', log);
    await keeper.start(keys);
    freeze(TTL_MS);
    expect(keeper.held()).toEqual([]);
    await keeper.runRound();
    expect(keeper.held().sort()).toEqual(keys);
    await keeper.stop();
  }, 30_000);
});
