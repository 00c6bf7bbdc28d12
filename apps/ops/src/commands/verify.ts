/**
 * `ops verify`: reads every event of Nimbus's streams and checks the store's invariants (checks/
 * invariants.ts). Exit status 1 and a report naming each broken invariant and the events behind it
 * when one breaks. Meant for a quiet store: work still under way can show as a passing violation
 * (a claim a delete is about to release), so a report is worth a second run before acting on it.
 */
import { INVARIANTS, type Invariant, StoreAudit, type Violation } from '../checks/invariants.js';
import { print, progress, toJson } from '../cli.js';
import { readEverything } from '../reading.js';
import type { Command } from './command.js';

export const verify: Command = {
  usage: 'verify [--json]',
  summary: "checks the whole store's invariants; exit status 1 when one breaks",
  arity: [0, 0],
  async run(client, _args, { json }) {
    const audit = new StoreAudit();
    const shown = progress('verify');
    for await (const entry of readEverything(client)) {
      audit.add(entry);
      shown.tick(audit.events);
    }
    shown.done(audit.events);
    const violations = audit.violations(new Date());
    const byInvariant = new Map<Invariant, Violation[]>();
    for (const name of Object.keys(INVARIANTS) as Invariant[]) byInvariant.set(name, []);
    for (const violation of violations) byInvariant.get(violation.invariant)?.push(violation);
    if (json) {
      const invariants = Object.fromEntries(
        [...byInvariant].map(([name, found]) => [
          name,
          { holds: found.length === 0, rule: INVARIANTS[name], violations: found },
        ]),
      );
      print(toJson({ events: audit.events, ok: violations.length === 0, invariants }));
      return violations.length === 0 ? 0 : 1;
    }
    const lines = [
      `checked ${audit.events} events: ${violations.length === 0 ? 'every invariant holds' : `${violations.length} violation(s)`}`,
    ];
    for (const [name, found] of byInvariant) {
      lines.push(
        `${found.length === 0 ? 'ok  ' : 'FAIL'} ${INVARIANTS[name]}${found.length === 0 ? '' : ` (${found.length})`}`,
      );
      for (const violation of found)
        lines.push(`       ${violation.message} [${violation.events.join(', ')}]`);
    }
    print(lines.join('\n'));
    return violations.length === 0 ? 0 : 1;
  },
};
