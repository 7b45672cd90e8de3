export { connectNats, type NatsConnectOptions, natsIsUp } from './connection.js';
export { DUPLICATE_WINDOW_MS, ensureConsumer, ensureStream, provisionStreams, streamConfigs } from './provision.js';
export { publish } from './publish.js';
export { request, serve } from './request-reply.js';
export { openNats, type ServiceNatsConfig } from './service.js';
