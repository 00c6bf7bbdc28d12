import { streamFor } from '#libs/contracts';
import { decideBoot, instanceReducer, serverStatus } from '#libs/domain';

import { bootCommand, userContext } from '../support/instances.js';
import { eventually } from '../support/eventually.js';
import { type NimbusSystem, startSystem } from '../support/system.js';

let system: NimbusSystem;

beforeAll(async () => {
  system = await startSystem({ rigHosts: 2 });
}, 120_000);

afterAll(async () => {
  await system.stop();
}, 60_000);

it('boots a server on the rig through the scheduler and the compute agent', async () => {
  const command = bootCommand({ image: { id: system.bootImageId, name: 'boot', properties: {} } });
  const stream = streamFor('instance', command.instanceId);
  await system.store.execute(stream, instanceReducer, (state) => decideBoot(state, command), userContext());
  const state = await eventually(
    'the server ACTIVE or ERROR',
    async () => {
      const { state } = await system.store.fold(stream, instanceReducer);
      return serverStatus(state) === 'ACTIVE' || serverStatus(state) === 'ERROR' ? state : undefined;
    },
    60_000,
  );
  if (serverStatus(state) !== 'ACTIVE') console.log(system.compute.output(), system.scheduler.output());
  expect(serverStatus(state)).toBe('ACTIVE');
}, 90_000);
