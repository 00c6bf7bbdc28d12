import { describe, expect, it } from '@jest/globals';
import {
  BootRequested,
  ContractViolation,
  DomainEvent,
  DomainStarted,
  EventMetadata,
  IsInstanceId,
  IsMib,
  IsText,
  build,
  decodeEvent,
  definitionOf,
  encodeEvent,
  isEvent,
  isKnownEvent,
  registerUpcaster,
  type EncodeMeta,
  type RawEvent,
} from './index.js';
import { sampleOf } from './testing/samples.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INSTANCE = '5c0b7a2e-8f4d-4b1e-9a3c-2d6e8f1a4b7c';

const meta: EncodeMeta = {
  correlationId: 'req-3fa85f64-5717-4562-b3fc-2c963f66afa6',
  causationId: '72d0ad8f-9b1e-4a5c-8d7f-8e0b2c4d6f78',
  actor: { userId: 'compute', projectId: null, kind: 'service' },
  occurredAt: '2025-03-14T09:27:09.447Z',
};

function domainStarted(overrides: Partial<DomainStarted> = {}): DomainStarted {
  return build(DomainStarted, {
    instanceId: INSTANCE,
    host: 'hv-01',
    domainName: `nimbus-${INSTANCE}`,
    reason: 'boot',
    ...overrides,
  });
}

/** Runs `action`, expecting a ContractViolation, and returns it. */
function violationOf(action: () => unknown): ContractViolation {
  try {
    action();
  } catch (error) {
    if (error instanceof ContractViolation) return error;
    throw error;
  }
  throw new Error('expected a ContractViolation, but nothing was thrown');
}

function pathsOf(violation: ContractViolation): string[] {
  return violation.issues.map((issue) => issue.path).sort();
}

/** A sample with its data (or metadata) changed by `edit`. */
function edited(
  type: string,
  edit: (event: { data: Record<string, unknown>; metadata: Record<string, unknown> }) => void,
): RawEvent {
  const event = sampleOf(type) as {
    type: string;
    data: Record<string, unknown>;
    metadata: Record<string, unknown>;
  };
  edit(event);
  return event;
}

describe(encodeEvent.name, () => {
  it('stamps the type, the schema version and a fresh lowercase UUID as the event id', () => {
    const encoded = encodeEvent(domainStarted(), meta);

    expect(encoded.type).toBe('DomainStarted');
    expect(encoded.id).toMatch(UUID);
    expect(encoded.metadata).toMatchObject({ eventId: encoded.id, schemaVersion: 1 });
    expect(encoded.data).toEqual({
      instanceId: INSTANCE,
      host: 'hv-01',
      domainName: `nimbus-${INSTANCE}`,
      reason: 'boot',
    });
  });

  it('keeps a given event id, so an append retried after a timeout is recognised as the same event', () => {
    const eventId = '0b6f3c1e-2a4d-4f8b-9c7e-1d3a5b7c9e01';
    expect(encodeEvent(domainStarted(), { ...meta, eventId }).id).toBe(eventId);
  });

  it('writes the correlation and causation ids also where EventStoreDB projections look for them', () => {
    const { metadata } = encodeEvent(domainStarted(), meta);
    expect(metadata).toMatchObject({ $correlationId: meta.correlationId, $causationId: meta.causationId });
    expect(encodeEvent(domainStarted(), { ...meta, causationId: null }).metadata).not.toHaveProperty(
      '$causationId',
    );
  });

  it("records only the actor's userId, projectId and kind, whatever else the caller's object holds", () => {
    const actor = { userId: 'u1', projectId: 'p1', kind: 'user' as const, token: 'gAAAA-secret' };
    expect(encodeEvent(domainStarted(), { ...meta, actor }).metadata['actor']).toEqual({
      userId: 'u1',
      projectId: 'p1',
      kind: 'user',
    });
  });

  it('refuses an invalid event before anything is written, naming each bad property', () => {
    const violation = violationOf(() => encodeEvent(domainStarted({ host: 'HV_01', domainName: '' }), meta));

    expect(violation.contract).toBe('DomainStarted');
    expect(violation.version).toBe(1);
    expect(pathsOf(violation)).toEqual(['domainName', 'host']);
    expect(violation.message).toContain('DomainStarted v1 violates its contract (encode)');
    expect(violation.message).toContain('host: host must be a host name');
  });

  it('refuses properties the class does not declare', () => {
    const event = Object.assign(domainStarted(), { vncPassword: 'hunter2' });
    expect(pathsOf(violationOf(() => encodeEvent(event, meta)))).toEqual(['vncPassword']);
  });

  it('refuses a plain object, which is not an instance of an event class', () => {
    const violation = violationOf(() => encodeEvent({ instanceId: INSTANCE }, meta));
    expect(violation.message).toContain('is not an instance of a registered event class');
  });

  it('refuses a Date where an ISO string belongs, rather than let JSON turn it into one silently', () => {
    const event = build(BootRequested, decodeEvent(sampleOf('BootRequested')).data as BootRequested);
    Object.assign(event, { name: new Date() });
    expect(pathsOf(violationOf(() => encodeEvent(event, meta)))).toEqual(['name']);
  });

  it('refuses NaN and bigint, which JSON would turn into null or choke on', () => {
    expect(
      pathsOf(violationOf(() => encodeEvent(domainStarted({ host: Number.NaN as unknown as string }), meta))),
    ).toEqual(['host']);
    expect(
      pathsOf(violationOf(() => encodeEvent(domainStarted({ host: 1n as unknown as string }), meta))),
    ).toEqual(['host']);
  });

  it('refuses an invalid envelope, naming the envelope and the event type', () => {
    const violation = violationOf(() =>
      encodeEvent(domainStarted(), {
        ...meta,
        correlationId: 'has spaces',
        occurredAt: '2025-03-14 09:27:09',
      }),
    );
    expect(violation.contract).toBe('EventMetadata');
    expect(violation.message).toContain('encode DomainStarted');
    expect(pathsOf(violation)).toEqual(['correlationId', 'occurredAt']);
  });
});

describe(decodeEvent.name, () => {
  it('returns an instance of the event class with the validated envelope', () => {
    const decoded = decodeEvent(sampleOf('BootRequested'));

    expect(decoded.data).toBeInstanceOf(BootRequested);
    expect(decoded.metadata).toBeInstanceOf(EventMetadata);
    expect(isEvent(decoded, BootRequested) && decoded.data.flavor.ramMb).toBe(2048);
    expect(
      isKnownEvent(decoded) && decoded.type === 'BootRequested' && decoded.data.image.properties.architecture,
    ).toBe('x86_64');
  });

  it('refuses an unknown event type', () => {
    const violation = violationOf(() =>
      decodeEvent({ ...sampleOf('BootRequested'), type: 'ServerTeleported' }),
    );
    expect(violation.contract).toBe('ServerTeleported');
    expect(violation.message).toContain('is not a registered event type');
  });

  it('refuses unknown properties at the root and inside nested objects', () => {
    const raw = edited('BootRequested', ({ data }) => {
      data['adminPass'] = 'secret';
      Object.assign(data['flavor'] as object, { swapMb: 512 });
    });
    const violation = violationOf(() => decodeEvent(raw));

    expect(pathsOf(violation)).toEqual(['adminPass', 'flavor.swapMb']);
    expect(violation.message).toContain('property adminPass should not exist');
  });

  it('names every property that breaks a rule, with its path', () => {
    const raw = edited('HostSelected', ({ data }) => {
      data['instanceId'] = INSTANCE.toUpperCase();
      data['alternates'] = ['hv-01', 'hv.example.com'];
      (data['trace'] as { filters: { remaining: number }[] }).filters[1]!.remaining = -1;
    });
    const violation = violationOf(() => decodeEvent(raw));

    expect(violation.contract).toBe('HostSelected');
    expect(violation.version).toBe(1);
    expect(pathsOf(violation)).toEqual(['alternates', 'instanceId', 'trace.filters.1.remaining']);
  });

  it('refuses a missing required property', () => {
    const raw = edited('DomainStopped', ({ data }) => {
      delete data['forced'];
    });
    expect(pathsOf(violationOf(() => decodeEvent(raw)))).toEqual(['forced']);
  });

  it('refuses null where only absence is allowed, and absence where only null is', () => {
    const nullZone = edited('BootRequested', ({ data }) => {
      data['availabilityZone'] = null;
    });
    const missingHost = edited('DomainDeleted', ({ data }) => {
      delete data['host'];
    });
    const nullHost = edited('DomainDeleted', ({ data }) => {
      data['host'] = null;
    });

    expect(pathsOf(violationOf(() => decodeEvent(nullZone)))).toEqual(['availabilityZone']);
    expect(pathsOf(violationOf(() => decodeEvent(missingHost)))).toEqual(['host']);
    expect(decodeEvent(nullHost).data).toMatchObject({ host: null });
  });

  it('never coerces: the string "2048" is not a number of MiB', () => {
    const raw = edited('ResourcesClaimed', ({ data }) => {
      data['ramMb'] = '2048';
    });
    expect(pathsOf(violationOf(() => decodeEvent(raw)))).toEqual(['ramMb']);
  });

  it('refuses a __proto__ or constructor key instead of dropping it', () => {
    const raw = sampleOf('BootRequested');
    const data = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "x"}') as Record<
      string,
      unknown
    >;
    const violation = violationOf(() => decodeEvent({ ...raw, data: { ...(raw.data as object), ...data } }));
    expect(pathsOf(violation)).toEqual(['__proto__', 'constructor']);
  });

  it('refuses data that is not a JSON object', () => {
    expect(violationOf(() => decodeEvent({ ...sampleOf('StopRequested'), data: [] })).message).toContain(
      'must be a JSON object',
    );
  });

  it('refuses an envelope that breaks its contract, naming the event type', () => {
    const raw = edited('StopRequested', ({ metadata }) => {
      metadata['actor'] = { userId: 'u1', kind: 'robot' };
      metadata['schemaVersion'] = 0;
    });
    const violation = violationOf(() => decodeEvent(raw));

    expect(violation.contract).toBe('EventMetadata');
    expect(violation.message).toContain('decode StopRequested');
    expect(pathsOf(violation)).toEqual(['actor.kind', 'actor.projectId', 'schemaVersion']);
  });

  it('refuses a $correlationId that disagrees with correlationId', () => {
    const raw = edited('StopRequested', ({ metadata }) => {
      metadata['$correlationId'] = 'req-someone-else';
    });
    expect(pathsOf(violationOf(() => decodeEvent(raw)))).toEqual(['$correlationId']);
  });

  it('refuses data written at a newer schema version than this code knows', () => {
    const raw = edited('StopRequested', ({ metadata }) => {
      metadata['schemaVersion'] = 2;
    });
    const violation = violationOf(() => decodeEvent(raw));
    expect(violation.version).toBe(2);
    expect(violation.message).toContain('newer than this code');
  });
});

// Test-only events: they exist in this spec's module registry alone.
@DomainEvent({ type: 'ProbeResized', version: 3, category: 'instance' })
class ProbeResized {
  @IsInstanceId()
  readonly instanceId!: string;

  @IsMib()
  readonly ramMb!: number;

  @IsText(1, 64)
  readonly reason!: string;
}

// v1 stored GiB; v2 stores MiB.
registerUpcaster('ProbeResized', 1, ({ ramGb, ...rest }) => ({ ...rest, ramMb: Number(ramGb) * 1024 }));
// v3 adds a required reason; events stored before it get a stated default.
registerUpcaster('ProbeResized', 2, (v2) => ({ ...v2, reason: 'unrecorded' }));

@DomainEvent({ type: 'ProbeWithoutHistory', version: 2, category: 'instance' })
class ProbeWithoutHistory {
  @IsInstanceId()
  readonly instanceId!: string;
}

@DomainEvent({ type: 'ProbeWithBrokenUpcaster', version: 2, category: 'instance' })
class ProbeWithBrokenUpcaster {
  @IsInstanceId()
  readonly instanceId!: string;
}
registerUpcaster('ProbeWithBrokenUpcaster', 1, () => {
  throw new Error('bug in the upcaster');
});

function stored(type: string, schemaVersion: number, data: Record<string, unknown>): RawEvent {
  const { metadata } = encodeEvent(domainStarted(), meta);
  return { type, data, metadata: { ...metadata, schemaVersion } };
}

describe('upcasting', () => {
  it('runs every upcaster from the stored version to the current one, in order', () => {
    const decoded = decodeEvent(stored('ProbeResized', 1, { instanceId: INSTANCE, ramGb: 2 }));

    expect(decoded.data).toBeInstanceOf(ProbeResized);
    expect(decoded.data).toEqual({ instanceId: INSTANCE, ramMb: 2048, reason: 'unrecorded' });
  });

  it('starts from the stored version, so v2 data skips the v1 step', () => {
    const decoded = decodeEvent(stored('ProbeResized', 2, { instanceId: INSTANCE, ramMb: 512 }));
    expect(decoded.data).toEqual({ instanceId: INSTANCE, ramMb: 512, reason: 'unrecorded' });
  });

  it('leaves the envelope as stored: schemaVersion says what was written', () => {
    expect(
      decodeEvent(stored('ProbeResized', 1, { instanceId: INSTANCE, ramGb: 2 })).metadata.schemaVersion,
    ).toBe(1);
  });

  it('gives each upcaster its own copy, so the raw event is not changed', () => {
    const raw = stored('ProbeResized', 1, { instanceId: INSTANCE, ramGb: 2 });
    decodeEvent(raw);
    expect(raw.data).toEqual({ instanceId: INSTANCE, ramGb: 2 });
  });

  it('validates the upcast data against the current schema', () => {
    const violation = violationOf(() =>
      decodeEvent(stored('ProbeResized', 1, { instanceId: INSTANCE, ramGb: 0 })),
    );
    expect(violation.version).toBe(3);
    expect(violation.message).toContain('stored as v1 and upcast');
    expect(pathsOf(violation)).toEqual(['ramMb']);
  });

  it('refuses to decode when a step of the chain is missing, naming the step', () => {
    const violation = violationOf(() =>
      decodeEvent(stored('ProbeWithoutHistory', 1, { instanceId: INSTANCE })),
    );
    expect(violation.message).toContain("has no upcaster: registerUpcaster('ProbeWithoutHistory', 1, fn)");
    expect(definitionOf('ProbeWithoutHistory')).toMatchObject({
      version: 2,
      eventClass: ProbeWithoutHistory,
    });
  });

  it('turns an upcaster that throws into a ContractViolation that keeps the cause', () => {
    const violation = violationOf(() =>
      decodeEvent(stored('ProbeWithBrokenUpcaster', 1, { instanceId: INSTANCE })),
    );
    expect(violation.message).toContain('upcasting v1 to v2');
    expect((violation.cause as Error).message).toBe('bug in the upcaster');
    expect(definitionOf('ProbeWithBrokenUpcaster').eventClass).toBe(ProbeWithBrokenUpcaster);
  });

  it('refuses a second upcaster for the same step, and one from the current version or later', () => {
    expect(violationOf(() => registerUpcaster('ProbeResized', 1, (data) => data)).message).toContain(
      'already registered',
    );
    expect(violationOf(() => registerUpcaster('ProbeResized', 3, (data) => data)).message).toContain(
      'must be below the current version v3',
    );
  });
});
