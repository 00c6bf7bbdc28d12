/**
 * What the API folds an instance stream into: the domain's InstanceState, plus the few facts Nova shows that
 * the domain does not keep (the libvirt domain name, for `OS-EXT-SRV-ATTR:instance_name`). Shows fold the
 * stream with this reducer; the list projection stores the same record, so both render identically.
 */
import { DomainStarted, type DecodedEvent } from '#libs/contracts';
import { type InstanceState, evolveInstance, initialInstance } from '#libs/domain';

export interface ServerRecord {
  readonly instance: InstanceState;
  readonly domainName: string | null;
}

export const initialServerRecord = (): ServerRecord => ({ instance: initialInstance(), domainName: null });

export function evolveServerRecord(record: ServerRecord, event: DecodedEvent): ServerRecord {
  const instance = evolveInstance(record.instance, event);
  const domainName = event.data instanceof DomainStarted ? event.data.domainName : record.domainName;
  return instance === record.instance && domainName === record.domainName ? record : { instance, domainName };
}

export const serverRecordReducer = { initial: initialServerRecord, evolve: evolveServerRecord };
