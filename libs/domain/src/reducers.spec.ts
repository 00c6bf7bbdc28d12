import { describe, expect, it } from '@jest/globals';

import { floatingIpReducer } from './floating-ip.js';
import { instanceReducer } from './instance.js';
import { networkReducer } from './network.js';
import { FOLDED_CATEGORIES, reducerForStream } from './reducers.js';
import { routerReducer } from './router.js';
import { securityGroupReducer } from './security-group.js';

describe(reducerForStream.name, () => {
  it("gives each domain stream its category's fold, and none to other streams", () => {
    const id = '5b0e8c4a-2f1d-4e6b-9a7c-1d3e5f7a9b0c';
    expect(reducerForStream(`instance-${id}`)).toBe(instanceReducer);
    expect(reducerForStream(`network-${id}`)).toBe(networkReducer);
    expect(reducerForStream(`secgroup-${id}`)).toBe(securityGroupReducer);
    expect(reducerForStream(`router-${id}`)).toBe(routerReducer);
    expect(reducerForStream(`floatingip-${id}`)).toBe(floatingIpReducer);
    expect(reducerForStream('checkpoint-relay')).toBeNull();
    expect(reducerForStream('not a stream')).toBeNull();
    expect(FOLDED_CATEGORIES).toEqual([
      'instance',
      'host',
      'console',
      'network',
      'secgroup',
      'router',
      'floatingip',
    ]);
  });
});
