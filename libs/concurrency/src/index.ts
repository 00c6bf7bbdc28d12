/**
 * Small in-process concurrency primitives shared by the apps and libs: one run per key at a time
 * (KeyedMutex), one shared run per key among concurrent callers (SingleFlight), and a counting
 * semaphore. Pure TypeScript promises: no I/O, no Nest, no timers.
 */
export { KeyedMutex } from './keyed-mutex.js';
export { Semaphore } from './semaphore.js';
export { SingleFlight } from './single-flight.js';
