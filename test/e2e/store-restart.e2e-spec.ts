/**
 * The event store killed with SIGKILL and started again in the middle of a burst of boots, on real
 * libvirt over SSH, every boot through the REST API: what a leader change of a store cluster looks like
 * to its clients (every connection dropped, every call in flight failed, subscriptions cut), here on
 * the embedded server. While it is down, a boot is refused with 503 and nothing of it is kept; once it
 * is back, every server the API had accepted ends ACTIVE, started exactly once, with one domain and one
 * claim on its host: the writes that failed are driven again from what the store has, and none of
 * those that landed is made twice.
 */
import type { OpenStackHttp } from '../../deploy/clients/openstack-http.js';
import type { InstanceEvents } from '../support/instance-events.js';
import { acceptedBurst } from '../support/servers.js';
import { type FaultRig, type SettledSystem, startFaultRig } from '../support/settled-system.js';
import type { NimbusSystem } from '../support/system.js';

let rig: FaultRig;
let system: NimbusSystem;
let os: OpenStackHttp;
let events: InstanceEvents;
let settled: SettledSystem;

beforeAll(async () => {
  rig = await startFaultRig({
    rigHosts: 2,
    api: true,
    apiEnv: { NIMBUS_API_QUOTA_INSTANCES: '-1', NIMBUS_API_QUOTA_CORES: '-1' },
  });
  ({ system, os, events, settled } = rig);
}, 180_000);

afterAll(() => rig.stop(), 120_000);

it('finishes every accepted boot, none twice, across a SIGKILL and restart of the store mid-burst', async () => {
  const images = await os.image<{ images: { id: string }[] }>('GET', '/v2/images?name=nimbus-boot');
  const imageRef = images.body.images[0]!.id;
  const booted: string[] = [];
  const from = events.mark();
  const ids = await acceptedBurst(os, 'store', 12, booted);
  await events.next('HostSelected', ids, { from });
  await system.eventStore.kill9();

  // Down: a boot is refused as a failure of the moment, and nothing of it is kept.
  const refused = await os.compute<{ server?: { id: string } }>('POST', '/servers', {
    server: { name: 'while-down', imageRef, flavorRef: '0', networks: 'none' },
  });
  expect(refused.status).toBe(503);
  await system.eventStore.restart();
  await settled.expectInFlight('SIGKILL of the event store', ids);

  await settled.expectAllActiveAndNothingDoubled(booted);
  const listed = await os.compute<{ servers: { name: string }[] }>('GET', '/servers?name=while-down');
  expect(listed.body.servers).toEqual([]);
}, 400_000);
