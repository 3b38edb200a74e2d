export * from './rules.js';
export * from './state.js';
export * from './snapshot.js';
export * from './webhook.js';
export * from './monitor.js';
