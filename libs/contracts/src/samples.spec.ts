import { describe, expect, it } from '@jest/globals';
import { decodeEvent, encodeEvent, eventDefinitions } from './index.js';
import { loadSamples } from './testing/samples.js';

const samples = loadSamples();
const currentSamples = samples.filter((sample) =>
  eventDefinitions().some(
    (definition) => definition.type === sample.type && definition.version === sample.version,
  ),
);

describe('JSON samples', () => {
  it('include one for the current version of every registered event', () => {
    const missing = eventDefinitions()
      .map(({ type, version }) => `${type}.v${version}.json`)
      .filter((file) => !samples.some((sample) => sample.file === file));
    expect(missing).toEqual([]);
  });

  it('are each named after a registered type and the schema version they were written at', () => {
    const misnamed = samples
      .filter((sample) => {
        const metadata = sample.event.metadata as { schemaVersion?: unknown };
        return sample.event.type !== sample.type || metadata.schemaVersion !== sample.version;
      })
      .map((sample) => sample.file);
    expect(misnamed).toEqual([]);
  });

  it.each(samples.map((sample) => [sample.file, sample] as const))('decode: %s', (_file, sample) => {
    const decoded = decodeEvent(sample.event);
    expect(decoded.type).toBe(sample.type);
    expect(decoded.data).toBeInstanceOf(
      eventDefinitions().find((definition) => definition.type === sample.type)?.eventClass,
    );
  });

  it.each(currentSamples.map((sample) => [sample.file, sample] as const))(
    're-encode to exactly what is stored: %s',
    (_file, sample) => {
      const { data, metadata } = decodeEvent(sample.event);
      const encoded = encodeEvent(data, metadata);
      expect({ type: encoded.type, data: encoded.data, metadata: encoded.metadata }).toEqual(sample.event);
      expect(encoded.id).toBe(metadata.eventId);
    },
  );
});
