import { describe, expect, it } from '@jest/globals';

import { ApiError } from './api-error.js';
import { MAX_MICROVERSION, Microversion, negotiateMicroversion } from './microversion.js';

const negotiate = (headers: Record<string, string>) => negotiateMicroversion(headers).toString();

describe(negotiateMicroversion.name, () => {
  it('defaults to 2.1 and reads the modern header before the legacy one, as microversion-parse does', () => {
    expect(negotiate({})).toBe('2.1');
    expect(negotiate({ 'openstack-api-version': 'compute 2.37' })).toBe('2.37');
    expect(negotiate({ 'x-openstack-nova-api-version': '2.12' })).toBe('2.12');
    expect(
      negotiate({ 'openstack-api-version': 'compute 2.60', 'x-openstack-nova-api-version': '2.12' }),
    ).toBe('2.60');
  });

  it('finds compute among several services and ignores a header naming other services only', () => {
    expect(negotiate({ 'openstack-api-version': 'image 2.5, compute 2.47' })).toBe('2.47');
    expect(negotiate({ 'openstack-api-version': 'volume 3.50' })).toBe('2.1');
  });

  it('maps latest to the maximum', () => {
    expect(negotiate({ 'openstack-api-version': 'compute latest' })).toBe(MAX_MICROVERSION.toString());
  });

  it("refuses a malformed version with 400 and an unsupported one with 406, in Nova's words", () => {
    expect(() => negotiate({ 'openstack-api-version': 'compute 2.x' })).toThrow(
      new ApiError(400, 'API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.'),
    );
    const tooNew = (() => {
      try {
        negotiate({ 'openstack-api-version': 'compute 2.94' });
      } catch (error) {
        return error as ApiError;
      }
      return null;
    })();
    expect(tooNew?.status).toBe(406);
    expect(tooNew?.message).toBe(
      'Version 2.94 is not supported by the API. Minimum is 2.1 and maximum is 2.93.',
    );
    expect(() => negotiate({ 'openstack-api-version': 'compute 1.9' })).toThrow(/not supported/);
    expect(() => negotiate({ 'openstack-api-version': 'compute 02.1' })).toThrow(/invalid format/);
  });
});

describe(Microversion.name, () => {
  it('compares numerically, not as text', () => {
    const at = (version: `${number}.${number}`) => ({ version, changed: 'a change' });
    expect(Microversion.parse('2.10')!.atLeast(at('2.9'))).toBe(true);
    expect(Microversion.parse('2.9')!.atLeast(at('2.10'))).toBe(false);
  });
});
