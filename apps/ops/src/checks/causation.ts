/**
 * The causation tree behind a server: every event points at the event it reacted to (its causation
 * id), so the events of the instance and of the streams it touched (claims on hosts, console tokens)
 * form a forest whose roots are users' requests. Pure: events in, tree out.
 */
import type { StoredEvent } from '#libs/event-store';

export interface CausationNode {
  readonly event: StoredEvent;
  readonly children: CausationNode[];
}

/**
 * Roots are events with no causation, or whose cause is not among the events given; children are in
 * the order they were written ($all position, then revision).
 */
export function causationForest(events: readonly StoredEvent[]): CausationNode[] {
  const ordered = [...events].sort(byStoreOrder);
  const nodes = new Map<string, CausationNode>();
  for (const event of ordered) nodes.set(event.metadata.eventId, { event, children: [] });
  const roots: CausationNode[] = [];
  for (const event of ordered) {
    const node = nodes.get(event.metadata.eventId);
    if (!node) continue;
    const cause = event.metadata.causationId;
    const parent = cause === null ? undefined : nodes.get(cause);
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function byStoreOrder(a: StoredEvent, b: StoredEvent): number {
  const left = a.position?.commit;
  const right = b.position?.commit;
  if (left !== undefined && right !== undefined && left !== right) return left < right ? -1 : 1;
  if (a.stream === b.stream && a.revision !== b.revision) return a.revision < b.revision ? -1 : 1;
  return a.metadata.occurredAt.localeCompare(b.metadata.occurredAt);
}

/** The forest as indented lines, each event labelled by `label`. */
export function renderForest(
  roots: readonly CausationNode[],
  label: (event: StoredEvent) => string,
): string[] {
  const lines: string[] = [];
  const walk = (node: CausationNode, prefix: string, last: boolean, depth: number) => {
    const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
    lines.push(`${prefix}${branch}${label(node.event)}`);
    const inner = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((child, index) =>
      walk(child, inner, index === node.children.length - 1, depth + 1),
    );
  };
  for (const root of roots) walk(root, '', true, 0);
  return lines;
}
