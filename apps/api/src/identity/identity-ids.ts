/**
 * Keystone-style ids (32 hex characters) derived from what names an entity: a project or user from its
 * domain and name, a role (built in or made by an admin) from its name. Deriving them makes "create if missing" safe under concurrency
 * (the same name meets the same stream) and makes bootstrapping idempotent across restarts.
 */
import { createHash } from 'node:crypto';

const derive = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

export const domainIdFor = (name: string): string => derive('domain', name);
export const projectIdFor = (domainId: string, name: string): string => derive('project', domainId, name);
export const userIdFor = (domainId: string, name: string): string => derive('user', domainId, name);
export const roleIdFor = (role: string): string => derive('role', role);
export const endpointIdFor = (service: string, iface: string): string => derive('endpoint', service, iface);
export const serviceIdFor = (service: string): string => derive('service', service);
