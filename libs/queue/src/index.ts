export * from './names.js';
export * from './job-ids.js';
export * from './payloads.js';
export * from './connection.js';
export * from './lock.js';
export * from './queues.js';
export * from './enqueue.js';
export * from './tick-scheduler.js';
