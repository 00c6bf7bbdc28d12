import { describe, expect, it } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import {
  ContractViolation,
  EventMetadata,
  decodeEvent,
  describeSchema,
  eventDefinitions,
  type RawEvent,
  type SchemaDescription,
} from '../index.js';
import { sampleOf } from '../testing/samples.js';
import { MAX_TRACE_REJECTED } from './values.js';

function withData(type: string, edit: (data: Record<string, unknown>) => void): RawEvent {
  const event = sampleOf(type);
  edit(event.data as Record<string, unknown>);
  return event;
}

function failingPaths(raw: RawEvent): string[] {
  try {
    decodeEvent(raw);
    return [];
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    return error.issues.map((issue) => issue.path).sort();
  }
}

/** Every property path of a schema, nested ones dotted. */
function paths(schema: SchemaDescription, prefix = ''): string[] {
  return Object.entries(schema).flatMap(([name, property]) => [
    `${prefix}${name}`,
    ...(property.nested === undefined ? [] : paths(property.nested, `${prefix}${name}.`)),
  ]);
}

describe('event payloads', () => {
  it('never repeat envelope fields: who, when and why live in the metadata alone', () => {
    const envelopeFields = new Set([
      ...Object.keys(describeSchema(EventMetadata)),
      'requestedBy',
      'requestId',
    ]);
    const offenders = eventDefinitions().flatMap(({ type, eventClass }) =>
      Object.keys(describeSchema(eventClass))
        .filter((property) => envelopeFields.has(property))
        .map((property) => `${type}.${property}`),
    );
    expect(offenders).toEqual([]);
  });

  it('declare no Date, bigint or Map property: payloads are plain JSON', () => {
    const storage = getMetadataStorage();
    const offenders = eventDefinitions().flatMap(({ type, eventClass }) =>
      storage
        .getTargetValidationMetadatas(eventClass, '', true, false)
        .filter(({ propertyName }) => {
          const designType: unknown = Reflect.getMetadata(
            'design:type',
            eventClass.prototype as object,
            propertyName,
          );
          return designType === Date || designType === BigInt || designType === Map || designType === Set;
        })
        .map(({ propertyName }) => `${type}.${propertyName}`),
    );
    expect(offenders).toEqual([]);
  });

  it('never hold a field named like a secret (token, password, key material)', () => {
    const secretish = /(^|\.)(token|password|adminPass|privateKey|secret)$/i;
    const offenders = eventDefinitions().flatMap(({ type, eventClass }) =>
      paths(describeSchema(eventClass))
        .filter((path) => secretish.test(path))
        .map((path) => `${type}.${path}`),
    );
    expect(offenders).toEqual([]);
  });
});

describe('BootRequested', () => {
  it('accepts a boot with only the required fields', () => {
    const raw = withData('BootRequested', (data) => {
      for (const optional of ['availabilityZone', 'keyName', 'serverGroup', 'forcedHost', 'userData']) {
        Reflect.deleteProperty(data, optional);
      }
      data['metadata'] = {};
      data['image'] = { id: 'c2a6f1e4-3b7d-4e8a-9f0c-1d2e3f4a5b6c', name: null, properties: {} };
    });
    expect(failingPaths(raw)).toEqual([]);
  });

  it('refuses user data that is not padded base64', () => {
    for (const userData of ['not base64!', 'YWJj\n', 'YQ']) {
      expect(failingPaths(withData('BootRequested', (data) => (data['userData'] = userData)))).toEqual([
        'userData',
      ]);
    }
    expect(failingPaths(withData('BootRequested', (data) => (data['userData'] = 'YQ==')))).toEqual([]);
  });

  it('refuses a server group policy Nova does not know and networks other than none or auto', () => {
    const raw = withData('BootRequested', (data) => {
      data['serverGroup'] = { id: '7d3f2a1b-9c8e-4d6f-a5b4-3c2d1e0f9a8b', policy: 'soft-affinity' };
      data['requestedNetworks'] = [{ uuid: 'net' }];
    });
    expect(failingPaths(raw)).toEqual(['requestedNetworks', 'serverGroup.policy']);
  });
});

describe('HostSelected', () => {
  it('refuses a filter step that names more rejected hosts than a trace keeps', () => {
    const raw = withData('HostSelected', (data) => {
      const step = (data['trace'] as { filters: { rejected: string[]; rejectedCount: number }[] })
        .filters[0]!;
      step.rejected = Array.from({ length: MAX_TRACE_REJECTED + 1 }, (_, index) => `hv-${index}`);
      step.rejectedCount = step.rejected.length;
    });
    expect(failingPaths(raw)).toEqual(['trace.filters.0.rejected']);
  });

  it('refuses an attempt numbered from 0: attempts are 1-based', () => {
    expect(failingPaths(withData('HostSelected', (data) => (data['attempt'] = 0)))).toEqual(['attempt']);
  });
});

describe('ConsoleAuthorized', () => {
  it('refuses anything but a SHA-256 hex digest as tokenHash, so a raw token cannot be stored', () => {
    const raw = withData(
      'ConsoleAuthorized',
      (data) => (data['tokenHash'] = 'Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg='),
    );
    expect(failingPaths(raw)).toEqual(['tokenHash']);
  });

  it('refuses a port outside 1-65535 and a console type other than novnc', () => {
    const raw = withData('ConsoleAuthorized', (data) => {
      data['port'] = 70_000;
      data['consoleType'] = 'spice-html5';
    });
    expect(failingPaths(raw)).toEqual(['consoleType', 'port']);
  });
});

describe('PowerStateChanged', () => {
  it("accepts only Nova's names for libvirt power states", () => {
    expect(failingPaths(withData('PowerStateChanged', (data) => (data['to'] = 'shut off')))).toEqual(['to']);
    expect(failingPaths(withData('PowerStateChanged', (data) => (data['to'] = 'suspended')))).toEqual([]);
  });
});

describe('InventoryReported', () => {
  it('refuses a zero allocation ratio and a negative reservation', () => {
    const raw = withData('InventoryReported', (data) => {
      data['ramAllocationRatio'] = 0;
      data['reservedRamMb'] = -512;
    });
    expect(failingPaths(raw)).toEqual(['ramAllocationRatio', 'reservedRamMb']);
  });
});

describe('InstanceFailed', () => {
  it('accepts a fault without a trace or details, and refuses a fault code outside 400-599', () => {
    const bare = withData('InstanceFailed', (data) => {
      delete data['trace'];
      data['fault'] = { code: 500, message: 'Build of instance aborted' };
    });
    expect(failingPaths(bare)).toEqual([]);
    expect(
      failingPaths(withData('InstanceFailed', (data) => (data['fault'] = { code: 200, message: 'ok' }))),
    ).toEqual(['fault.code']);
  });
});
