export * from './console.js';
export * from './errors.js';
export * from './host.js';
export * from './instance.js';
export * from './reducers.js';
