import { describe, expect, it } from '@jest/globals';
import {
  AuthorizeConsole,
  BootRequested,
  BootServer,
  ConsoleAuthorized,
  ContractViolation,
  EVENTS_STREAM,
  EVENTS_STREAM_SUBJECTS,
  HostEnabled,
  ResourcesClaimed,
  build,
  categorySubjects,
  commandSubject,
  commandSubjects,
  decodeEvent,
  eventDefinitions,
  parseStreamName,
  streamFor,
  streamOf,
  subjectFor,
} from './index.js';
import { sampleOf } from './testing/samples.js';

const INSTANCE = '5c0b7a2e-8f4d-4b1e-9a3c-2d6e8f1a4b7c';
const TOKEN_HASH = 'dd02c120c70ef5d7353f095746606261f170d66f0112759042305e9d49206c13';

describe(streamFor.name, () => {
  it('names a stream <category>-<id>', () => {
    expect(streamFor('instance', INSTANCE)).toBe(`instance-${INSTANCE}`);
    expect(streamFor('host', 'hv-01')).toBe('host-hv-01');
    expect(streamFor('console', TOKEN_HASH)).toBe(`console-${TOKEN_HASH}`);
  });

  it.each([
    ['instance', INSTANCE.toUpperCase()],
    ['instance', 'not-a-uuid'],
    ['host', 'hv-01.example.com'],
    ['host', 'nimbus.evt.>'],
    ['console', 'the-raw-token'],
  ] as const)('refuses a %s stream for the id %j', (category, id) => {
    expect(() => streamFor(category, id)).toThrow(ContractViolation);
  });
});

describe(streamOf.name, () => {
  it("reads the stream id from the property the event's category names", () => {
    expect(streamOf(decodeEvent(sampleOf('BootRequested')).data)).toBe(`instance-${INSTANCE}`);
    expect(streamOf(decodeEvent(sampleOf('ResourcesClaimed')).data)).toBe('host-hv-02');
    expect(streamOf(decodeEvent(sampleOf('ConsoleAuthorized')).data)).toBe(`console-${TOKEN_HASH}`);
  });

  it('refuses an event whose id property is not a valid id', () => {
    expect(() => streamOf(build(HostEnabled, { host: 'HV 01' }))).toThrow(/must be a host name/);
  });
});

describe(parseStreamName.name, () => {
  it('inverts streamFor, host names with dashes included', () => {
    expect(parseStreamName('host-hv-01')).toEqual({ category: 'host', id: 'hv-01' });
    expect(parseStreamName(`instance-${INSTANCE}`)).toEqual({ category: 'instance', id: INSTANCE });
  });

  it.each(['$all', '$et-BootRequested', 'image-1', 'instance-', 'host'])('refuses %j', (stream) => {
    expect(() => parseStreamName(stream)).toThrow(ContractViolation);
  });
});

describe(subjectFor.name, () => {
  it('derives nimbus.evt.<category>.<Type> from the class or the type name', () => {
    expect(subjectFor(BootRequested)).toBe('nimbus.evt.instance.BootRequested');
    expect(subjectFor('ResourcesClaimed')).toBe(subjectFor(ResourcesClaimed));
    expect(subjectFor(ConsoleAuthorized)).toBe('nimbus.evt.console.ConsoleAuthorized');
  });

  it('gives every registered event a distinct subject inside the JetStream stream', () => {
    const subjects = eventDefinitions().map((definition) => subjectFor(definition.type));
    expect(new Set(subjects).size).toBe(subjects.length);
    expect(subjects.every((subject) => subject.startsWith(EVENTS_STREAM_SUBJECTS.slice(0, -1)))).toBe(true);
    expect(EVENTS_STREAM).toBe('NIMBUS_EVENTS');
  });

  it('refuses an unregistered type, such as an EventStoreDB system event', () => {
    expect(() => subjectFor('$metadata')).toThrow(/is not a registered event type/);
  });

  it('offers a per-category wildcard for consumers', () => {
    expect(categorySubjects('host')).toBe('nimbus.evt.host.*');
  });
});

describe(commandSubject.name, () => {
  it('addresses compute commands to the agent of one host: nimbus.cmd.compute.<host>.<Name>', () => {
    expect(commandSubject(AuthorizeConsole, 'hv-01')).toBe('nimbus.cmd.compute.hv-01.AuthorizeConsole');
    expect(commandSubjects('compute', 'hv-01')).toBe('nimbus.cmd.compute.hv-01.*');
  });

  it('addresses other commands to their target: nimbus.cmd.<target>.<Name>', () => {
    expect(commandSubject(BootServer)).toBe('nimbus.cmd.api.BootServer');
    expect(commandSubject('BootServer')).toBe(commandSubject(BootServer));
  });

  it('requires a valid host for compute commands and refuses one for the others', () => {
    expect(() => commandSubject(AuthorizeConsole)).toThrow(/must be the host name/);
    expect(() => commandSubject(AuthorizeConsole, 'hv-01.>')).toThrow(ContractViolation);
    expect(() => commandSubject(BootServer, 'hv-01')).toThrow(/only for compute commands/);
  });

  it('refuses an unregistered command', () => {
    expect(() => commandSubject('LaunchMissiles')).toThrow(/is not a registered command/);
  });
});
