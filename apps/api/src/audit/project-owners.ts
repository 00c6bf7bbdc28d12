/**
 * Which project an event belongs to, for the audit feed's filter: what the event says itself, else the
 * project of its stream's first event (an instance's later events belong to the project that booted it),
 * looked up once by a point read and remembered. Owners never change, so the memory never goes stale; it
 * is only bounded.
 */
import { Injectable } from '@nestjs/common';

import { projectClue } from '#libs/audit';
import { EventStore, type StoredEvent } from '#libs/event-store';

const REMEMBERED = 100_000;

@Injectable()
export class ProjectOwners {
  private readonly owners = new Map<string, string | null>();

  constructor(private readonly store: EventStore) {}

  async projectOf(event: StoredEvent): Promise<string | null> {
    const clue = projectClue(event);
    if ('project' in clue) {
      if (event.revision === 0n) this.remember(event.stream, clue.project);
      return clue.project;
    }
    return this.ownerOf(clue.ownerOf);
  }

  private async ownerOf(stream: string): Promise<string | null> {
    const known = this.owners.get(stream);
    if (known !== undefined) return known;
    let owner: string | null = null;
    for await (const first of this.store.read(stream, { maxCount: 1 })) {
      const clue = projectClue(first);
      owner = 'project' in clue ? clue.project : null;
    }
    this.remember(stream, owner);
    return owner;
  }

  private remember(stream: string, project: string | null): void {
    if (this.owners.size >= REMEMBERED) {
      const oldest = this.owners.keys().next();
      if (oldest.done !== true) this.owners.delete(oldest.value);
    }
    this.owners.set(stream, project);
  }
}
