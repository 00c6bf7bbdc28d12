import {
  assertDomainName,
  domainNameOf,
  domainSpec,
  instanceIdOf,
  MAX_NICS,
  tapNameOf,
  validateDomainSpec,
  type DomainSpecInput,
} from './domain-spec.js';
import { InvalidArgument } from './errors.js';

const INSTANCE = '6f1c2a4e-3b7d-4c9e-8a21-0d5e9b3f7c10';
const IMAGE = 'a3d2f0c1-5e6b-4f70-9182-736455aa0b1c';
const input: DomainSpecInput = { instanceId: INSTANCE, vcpus: 1, memoryMib: 64, imageId: IMAGE };
const NIC = {
  portId: '5e0d8f2b-9c1a-4b3e-8f70-1a2b3c4d5e6f',
  networkId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  macAddress: 'fa:16:3e:00:00:01',
};

describe(domainSpec.name, () => {
  it('derives the domain name from the instance id and fills in the defaults', () => {
    expect(domainSpec(input)).toEqual({
      instanceId: INSTANCE,
      name: `nimbus-${INSTANCE}`,
      vcpus: 1,
      memoryMib: 64,
      imageId: IMAGE,
      rootDiskGb: 0,
      diskBus: 'virtio',
      nics: [],
    });
  });

  it.each([
    ['an uppercase instance id', { instanceId: INSTANCE.toUpperCase() }],
    ['an instance id with shell in it', { instanceId: `${INSTANCE}; reboot` }],
    ['an image id that is a path', { imageId: '../../etc/passwd' }],
    ['no vCPU', { vcpus: 0 }],
    ['a fractional vCPU count', { vcpus: 1.5 }],
    ['too little memory', { memoryMib: 8 }],
    ['a negative root disk', { rootDiskGb: -1 }],
    ['an unknown disk bus', { diskBus: 'scsi' as 'ide' }],
    ['a NIC whose port id is not a UUID', { nics: [{ ...NIC, portId: 'tap0; ip link del eth0' }] }],
    ['a NIC whose network id is uppercase', { nics: [{ ...NIC, networkId: NIC.networkId.toUpperCase() }] }],
    ['a NIC whose MAC is not six octets', { nics: [{ ...NIC, macAddress: 'fa:16:3e:00:00' }] }],
    ['one port as two NICs', { nics: [NIC, { ...NIC, macAddress: 'fa:16:3e:00:00:02' }] }],
    ['two NICs with one MAC', { nics: [NIC, { ...NIC, portId: '0b0c4a4e-3b7d-4c9e-8a21-0d5e9b3f7c10' }] }],
    ['more NICs than a guest can have', { nics: Array.from({ length: MAX_NICS + 1 }, () => NIC) }],
  ])('refuses %s', (_what, change) => {
    expect(() => domainSpec({ ...input, ...change })).toThrow(InvalidArgument);
  });

  it('re-checks a hand-built spec, including that its name is the derived one', () => {
    const spec = domainSpec(input);
    expect(validateDomainSpec(spec)).toBe(spec);
    expect(() => validateDomainSpec({ ...spec, name: 'nimbus-other' })).toThrow(InvalidArgument);
  });
});

describe(tapNameOf.name, () => {
  it("is Neutron's name: tap and the port id's first 11 characters, within Linux's 15", () => {
    expect(tapNameOf(NIC.portId)).toBe('tap5e0d8f2b-9c');
    expect(() => tapNameOf('../eth0')).toThrow(InvalidArgument);
  });
});

describe('domain names', () => {
  it('round-trip between instance id and name', () => {
    expect(instanceIdOf(domainNameOf(INSTANCE))).toBe(INSTANCE);
    expect(assertDomainName(domainNameOf(INSTANCE))).toBe(INSTANCE);
  });

  it.each([
    'it-guest',
    `nimbus-${INSTANCE.toUpperCase()}`,
    `nimbus-${INSTANCE}\n`,
    `x-nimbus-${INSTANCE}`,
    '',
  ])('do not take %j for a Nimbus domain', (name) => {
    expect(instanceIdOf(name)).toBeUndefined();
    expect(() => assertDomainName(name)).toThrow(InvalidArgument);
  });

  it('never echo the refused input in the error', () => {
    expect(() => assertDomainName("x'; rm -rf /")).toThrow(/^not a Nimbus domain name/);
    expect(() => assertDomainName("x'; rm -rf /")).not.toThrow(/rm -rf/);
  });
});
