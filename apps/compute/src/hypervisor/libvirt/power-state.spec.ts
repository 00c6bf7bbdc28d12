import { POWER_STATES } from '#libs/contracts';

import { isPoweredOff } from '../hypervisor-driver.js';
import { powerStateFromCode, powerStateFromVirsh } from './power-state.js';

describe('libvirt power states', () => {
  it.each([
    ['running\n\n', 'running'],
    ['idle\n', 'running'],
    ['paused\n', 'paused'],
    ['in shutdown\n', 'shutdown'],
    ['shut off\n', 'shutoff'],
    ['shut off (destroyed)\n', 'shutoff'],
    ['running (booted)\n', 'running'],
    ['crashed\n', 'crashed'],
    ['pmsuspended\n', 'suspended'],
    ['no state\n', 'nostate'],
    ['something libvirt adds one day\n', 'nostate'],
    ['', 'nostate'],
  ] as const)('maps virsh domstate %j to %s', (output, state) => {
    expect(powerStateFromVirsh(output)).toBe(state);
  });

  it('maps every virDomainState number, and unknown numbers to nostate', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(powerStateFromCode)).toEqual([
      'nostate',
      'running',
      'running',
      'paused',
      'shutdown',
      'shutoff',
      'crashed',
      'suspended',
    ]);
    expect(powerStateFromCode(8)).toBe('nostate');
    expect(powerStateFromCode(-1)).toBe('nostate');
  });

  it('only ever yields words of the contracts vocabulary', () => {
    for (let code = -1; code < 10; code += 1) expect(POWER_STATES).toContain(powerStateFromCode(code));
  });

  it('counts shut off, crashed and no state as off', () => {
    expect(POWER_STATES.filter(isPoweredOff)).toEqual(['nostate', 'shutoff', 'crashed']);
  });
});
