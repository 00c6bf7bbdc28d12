/**
 * Every command, loaded (and so registered) together.
 * Must never hold definitions itself: one file per group of commands, re-exported here.
 */
export * from './console.commands.js';
export * from './server.commands.js';
