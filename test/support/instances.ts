/** Realistic commands and actors for tests that write instance streams through the domain. */
import { randomUUID } from 'node:crypto';

import { BootServer, build } from '#libs/contracts';
import type { EventContext } from '#libs/event-store';

export const userContext = (projectId = 'p-demo', userId = 'u-demo'): EventContext => ({
  correlationId: `req-${randomUUID()}`,
  causationId: null,
  actor: { userId, projectId, kind: 'user' },
});

export function bootCommand(overrides: Partial<BootServer> = {}): BootServer {
  return build(BootServer, {
    instanceId: randomUUID(),
    projectId: 'p-demo',
    userId: 'u-demo',
    name: 'web-1',
    flavor: { id: '1', name: 'm1.nano', vcpus: 1, ramMb: 64, diskGb: 0 },
    image: { id: randomUUID(), name: 'nimbus-boot', properties: { architecture: 'x86_64' } },
    metadata: { role: 'web' },
    requestedNetworks: 'none',
    ...overrides,
  });
}
