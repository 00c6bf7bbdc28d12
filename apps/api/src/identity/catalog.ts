/**
 * The service catalog a token carries: one entry per API this process serves (compute at `/v2.1`, image
 * and network at their prefixes, identity at `/v3/`), each with public, internal and admin endpoints in
 * one region. Every URL is on the one public URL, so one API_URL configures a client completely.
 */
import { endpointIdFor, serviceIdFor } from './identity-ids.js';

export interface CatalogEndpoint {
  readonly id: string;
  readonly interface: 'public' | 'internal' | 'admin';
  readonly region_id: string;
  readonly url: string;
  readonly region: string;
}

export interface CatalogEntry {
  readonly endpoints: readonly CatalogEndpoint[];
  readonly id: string;
  readonly type: string;
  readonly name: string;
}

export function serviceCatalog(
  baseUrl: string,
  prefixes: { readonly image: string; readonly network: string },
  region: string,
): CatalogEntry[] {
  const services = [
    { type: 'compute', name: 'nova', url: `${baseUrl}/v2.1` },
    { type: 'image', name: 'glance', url: `${baseUrl}${prefixes.image}` },
    { type: 'network', name: 'neutron', url: `${baseUrl}${prefixes.network}` },
    { type: 'identity', name: 'keystone', url: `${baseUrl}/v3/` },
  ];
  return services.map(({ type, name, url }) => ({
    endpoints: (['public', 'internal', 'admin'] as const).map((iface) => ({
      id: endpointIdFor(name, iface),
      interface: iface,
      region_id: region,
      url,
      region,
    })),
    id: serviceIdFor(name),
    type,
    name,
  }));
}
