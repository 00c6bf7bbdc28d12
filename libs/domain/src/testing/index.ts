/**
 * Helpers for specs of the pure aggregates and of code built on them (`#libs/domain/testing`). Never
 * imported by production code.
 */
export { envelope, foldAll } from './given.js';
export { given, serverStory } from './instances.js';
export { inventory, registered, registration, reported } from './hosts.js';
