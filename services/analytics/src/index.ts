export { type Analytics, type AnalyticsDeps, buildAnalytics } from './app.js';
export { type AnalyticsConfig, AnalyticsConfigSchema, loadAnalyticsConfig } from './config.js';
export { mergeFacts, type RequestFacts } from './domain/request-facts.js';
export { type RebuildResult, rebuildProjections } from './rebuild-projections.js';
