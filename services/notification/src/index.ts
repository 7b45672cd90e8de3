export { buildGateway, type Gateway, type GatewayDeps } from './app.js';
export { type GatewayConfig, GatewayConfigSchema, loadGatewayConfig } from './config.js';
