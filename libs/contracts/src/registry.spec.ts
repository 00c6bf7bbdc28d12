import { describe, expect, it } from '@jest/globals';
import {
  Command,
  CONSOLE_EVENTS,
  DOMAIN_EVENTS,
  FLAVOR_EVENTS,
  FLOATINGIP_EVENTS,
  IMAGE_EVENTS,
  KEYPAIR_EVENTS,
  NETWORK_EVENTS,
  PROJECT_EVENTS,
  QUOTA_EVENTS,
  ROLE_EVENTS,
  ROUTER_EVENTS,
  SECGROUP_EVENTS,
  SERVERGROUP_EVENTS,
  TOKEN_EVENTS,
  USER_EVENTS,
  ContractViolation,
  DomainEvent,
  EVENT_CATALOG,
  HOST_EVENTS,
  INSTANCE_EVENTS,
  IsHostName,
  IsInstanceId,
  STREAM_CATEGORIES,
  commandDefinitions,
  definitionOf,
  eventCatalog,
  eventDefinitions,
  eventTypeOf,
  isEventType,
  type StreamCategory,
} from './index.js';
import { upcasterFor } from './registry.js';

/** Declares a fresh class and applies `decorate` to it, as a decorator line would. */
function declare(
  decorate: (target: new () => object) => void,
  property?: (target: object, key: string) => void,
): void {
  class Candidate {
    readonly instanceId!: string;
  }
  property?.(Candidate.prototype, 'instanceId');
  decorate(Candidate);
}

describe(DomainEvent.name, () => {
  it('registers every event under its type, version and category', () => {
    expect(definitionOf('BootRequested')).toMatchObject({
      type: 'BootRequested',
      version: 4,
      category: 'instance',
    });
    expect(eventDefinitions().length).toBe(Object.keys(EVENT_CATALOG).length);
    expect(isEventType('HostSelected')).toBe(true);
    expect(isEventType('$metadata')).toBe(false);
  });

  it.each([
    [
      'a type that is not PascalCase',
      { type: 'boot.requested', version: 1, category: 'instance' },
      /PascalCase/,
    ],
    ['a version below 1', { type: 'ProbeA', version: 0, category: 'instance' }, /integer >= 1/],
    ['a fractional version', { type: 'ProbeB', version: 1.5, category: 'instance' }, /integer >= 1/],
    [
      'an unknown category',
      { type: 'ProbeC', version: 1, category: 'volume' },
      /must be one of: instance, host, console, domain, project, user, role, token, image, flavor, keypair, servergroup, quota, network, secgroup, router, floatingip/,
    ],
    [
      'a type already taken',
      { type: 'BootRequested', version: 1, category: 'instance' },
      /already registered/,
    ],
  ])('refuses %s at import time', (_case, options, message) => {
    const register = () => {
      declare(
        DomainEvent(options as { type: string; version: number; category: StreamCategory }),
        IsInstanceId(),
      );
    };
    expect(register).toThrow(ContractViolation);
    expect(register).toThrow(message);
  });

  it('refuses an event that does not declare the property naming its stream', () => {
    expect(() => {
      declare(DomainEvent({ type: 'ProbeHostless', version: 1, category: 'host' }), IsInstanceId());
    }).toThrow(/host events must declare a validated host/);
  });
});

describe('upcaster chains', () => {
  it('are complete for every event above v1: each older version has its step', () => {
    const missing = eventDefinitions().flatMap(({ type, version }) =>
      Array.from({ length: version - 1 }, (_, index) => index + 1)
        .filter((from) => upcasterFor(type, from) === undefined)
        .map((from) => `${type} v${from} -> v${from + 1}`),
    );
    expect(missing).toEqual([]);
  });
});

describe(eventTypeOf.name, () => {
  it('refuses an object that is not an instance of a registered event class', () => {
    expect(() => eventTypeOf({ instanceId: 'x' })).toThrow(ContractViolation);
  });
});

describe(eventCatalog.name, () => {
  it('holds each category exactly, keyed by type', () => {
    const catalogs: Record<StreamCategory, Readonly<Record<string, unknown>>> = {
      instance: INSTANCE_EVENTS,
      host: HOST_EVENTS,
      console: CONSOLE_EVENTS,
      domain: DOMAIN_EVENTS,
      project: PROJECT_EVENTS,
      user: USER_EVENTS,
      role: ROLE_EVENTS,
      token: TOKEN_EVENTS,
      image: IMAGE_EVENTS,
      flavor: FLAVOR_EVENTS,
      keypair: KEYPAIR_EVENTS,
      servergroup: SERVERGROUP_EVENTS,
      quota: QUOTA_EVENTS,
      network: NETWORK_EVENTS,
      secgroup: SECGROUP_EVENTS,
      router: ROUTER_EVENTS,
      floatingip: FLOATINGIP_EVENTS,
    };
    for (const category of Object.keys(STREAM_CATEGORIES) as StreamCategory[]) {
      const registered = eventDefinitions()
        .filter((definition) => definition.category === category)
        .map((definition) => definition.type)
        .sort();
      expect(Object.keys(catalogs[category]).sort()).toEqual(registered);
    }
  });

  it('refuses a class catalogued under another name or category', () => {
    expect(() => eventCatalog('instance', { Booted: INSTANCE_EVENTS.BootRequested })).toThrow(
      /registered as BootRequested/,
    );
    expect(() => eventCatalog('host', { BootRequested: INSTANCE_EVENTS.BootRequested })).toThrow(
      /is instance, not host/,
    );
  });
});

describe(Command.name, () => {
  it('registers the console and server commands with their targets', () => {
    expect(commandDefinitions().map(({ name, target }) => `${target}:${name}`)).toEqual([
      'compute:AuthorizeConsole',
      'api:BootServer',
      'compute:GetConsoleOutput',
    ]);
  });

  it('refuses a compute command without a host, since the host addresses the agent', () => {
    expect(() => {
      declare(Command({ name: 'ProbeCompute', version: 1, target: 'compute' }), IsInstanceId());
    }).toThrow(/compute commands must declare a validated host/);
  });

  it('refuses a name already taken', () => {
    expect(() => {
      declare(Command({ name: 'BootServer', version: 1, target: 'api' }), IsHostName());
    }).toThrow(/already registered/);
  });
});
