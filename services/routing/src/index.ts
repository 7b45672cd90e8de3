export { buildRouting, type Routing, type RoutingDeps } from './app.js';
export { type RoutingConfig, RoutingConfigSchema } from './config.js';
export { cancelVerdict, declineVerdict } from './domain/command-rules.js';
export { FAVORITES_PRIORITY_FLAG, flagEnabledFor, rolloutBucket } from './domain/feature-flag.js';
export { decideRouting, type RoutingDecision } from './domain/routing-decision.js';
export { acceptVerdict } from './domain/rules/accept.js';
export type { CommittedChange, RoutingHooks } from './services/request-router.js';
