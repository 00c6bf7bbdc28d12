/**
 * Who of a group's members should hold each key: every key wanted by some member goes to one member
 * that wants it, no member taking more than its even share (the keys over the members, rounded up)
 * while another that wants the key has room. Each key ranks its members by a hash of the two names
 * and goes to the first with room, so a member joining or leaving moves few keys beyond those its
 * share gains or gives up (rendezvous hashing with bounded loads). Every member computes the same
 * answer from the same list, so no member has to be asked.
 */
import { createHash } from 'node:crypto';

import type { LeaseMember } from './lease-board.js';

const rank = (key: string, holder: string): number =>
  createHash('sha256').update(`${key}\n${holder}`).digest().readUInt32BE(0);

/** Key to holder, for every key some member wants. */
export function shareOut(members: readonly LeaseMember[]): Map<string, string> {
  const wants = new Map<string, Set<string>>();
  for (const { holder, wants: keys } of members) {
    const set = wants.get(holder) ?? new Set<string>();
    for (const key of keys) set.add(key);
    wants.set(holder, set);
  }
  const holders = [...wants.keys()].sort();
  const keys = [...new Set([...wants.values()].flatMap((set) => [...set]))].sort();
  const share = Math.ceil(keys.length / Math.max(1, holders.length));
  const load = new Map(holders.map((holder) => [holder, 0]));
  const owners = new Map<string, string>();
  for (const key of keys) {
    const ranked = holders
      .filter((holder) => wants.get(holder)?.has(key))
      .map((holder) => ({ holder, rank: rank(key, holder) }))
      .sort((a, b) => b.rank - a.rank || (a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : 0));
    const loadOf = (holder: string): number => load.get(holder) ?? 0;
    const owner =
      ranked.find(({ holder }) => loadOf(holder) < share) ??
      ranked.reduce((least, candidate) =>
        loadOf(candidate.holder) < loadOf(least.holder) ? candidate : least,
      );
    owners.set(key, owner.holder);
    load.set(owner.holder, loadOf(owner.holder) + 1);
  }
  return owners;
}
