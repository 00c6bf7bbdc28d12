import { ConsoleRegistry } from './console-registry.js';

describe(ConsoleRegistry.name, () => {
  it('tells every console of a token that it is revoked, and only those', () => {
    const registry = new ConsoleRegistry();
    const heard: string[] = [];
    const a1 = registry.track('a');
    const a2 = registry.track('a');
    const b = registry.track('b');
    a1.onRevoked((reason) => heard.push(`a1 ${reason}`));
    a2.onRevoked((reason) => heard.push(`a2 ${reason}`));
    b.onRevoked((reason) => heard.push(`b ${reason}`));
    expect(registry.revoke('a', 'instance-stopped')).toBe(2);
    expect(heard).toEqual(['a1 instance-stopped', 'a2 instance-stopped']);
    expect(b.revokedReason()).toBeNull();
  });

  it('remembers a revocation that arrives before the console is open, and tells it on listening', () => {
    const registry = new ConsoleRegistry();
    const pending = registry.track('a');
    registry.revoke('a', 'instance-deleted');
    expect(pending.revokedReason()).toBe('instance-deleted');
    const heard: string[] = [];
    pending.onRevoked((reason) => heard.push(reason));
    expect(heard).toEqual(['instance-deleted']);
  });

  it('forgets a released console once, however often it is released', () => {
    const registry = new ConsoleRegistry();
    const one = registry.track('a');
    registry.track('a');
    expect(registry.size).toBe(2);
    one.release();
    one.release();
    expect(registry.size).toBe(1);
    expect(registry.revoke('b', 'instance-deleted')).toBe(0);
  });
});
