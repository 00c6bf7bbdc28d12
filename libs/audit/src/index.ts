/**
 * The audit feed's pure parts (imported as `#libs/audit`): what each event type shows and to whom, a
 * stored event as a CloudEvent, feed positions, and the hash chain of an audit log.
 * Must never perform I/O: the API's feed and the audit CLI bring the store and the network.
 */
export * from './audit-policy.js';
export * from './chain.js';
export * from './cloud-event.js';
export * from './position.js';
export * from './gap-detector.js';
