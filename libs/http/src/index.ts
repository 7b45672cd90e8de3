export { type AdmissionOptions, limitInFlight } from './admission.js';
export { createHttpApp, type HttpApp, type HttpAppOptions } from './app.js';
export { type AuthOptions, bearerSecurity, createAuthorizer } from './auth.js';
export { fieldProblem, installErrorHandlers } from './error-handler.js';
export { createMetrics, instrumentHttp } from './metrics.js';
export { type ReadinessCheck, registerProbes } from './probes.js';
export { type FieldError, HttpProblem, type Problem, problem, sendProblem } from './problem.js';
export { closeOnSignals } from './service.js';
export { rejectUnstorableText, unstorableText } from './text-guard.js';
