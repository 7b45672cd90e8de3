export * from './commands.js';
export * from './events.js';
export * from './gateway.js';
export * from './notifications.js';
export * from './problem.js';
export * from './registry.js';
export * from './session-request.js';
export * from './subjects.js';
