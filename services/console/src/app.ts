import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTokenService } from '@dibs/auth';
import { createHttpApp, type HttpApp, registerProbes } from '@dibs/http';
import { type Logger, withoutTokenInUrls } from '@dibs/logger';
import fastifyStatic from '@fastify/static';
import type { ConsoleConfig } from './config.js';
import { registerDevLogin } from './routes/dev-login.routes.js';
import { devLoginEnabled, runtimeConfig } from './runtime-config.js';

export { type ConsoleConfig, ConsoleConfigSchema, loadConsoleConfig } from './config.js';
export { type RuntimeConfig, runtimeConfig } from './runtime-config.js';

/** Where `vite build` puts the page (dist/web), from src/ (tests) and dist/ (a build) alike. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../dist/web/', import.meta.url));

/** The page's own paths: each serves the app, which shows the page of the signed-in role. */
const PAGES = ['/', '/sign-in', '/mechanic', '/customer', '/admin'];

/**
 * The page may run only its own scripts; it talks to the API and the gateway, wherever they are
 * (CONSOLE_API_URL / CONSOLE_WS_URL, or other ports of its host). Chart.js sizes canvases through
 * inline styles.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' http: https: ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsoleDeps {
  config: ConsoleConfig;
  logger: Logger;
  /** Signs development sign-ins; required outside production, unused in production. */
  jwtSecret?: string;
  /** The built page (default dist/web). */
  webRoot?: string;
}

export interface Console {
  app: HttpApp;
  close(): Promise<void>;
}

/** Builds the console's server (CONTRACT §8): the built page, its runtime config, probes; never listens. */
export async function buildConsole({
  config,
  logger,
  jwtSecret,
  webRoot = DEFAULT_WEB_ROOT,
}: ConsoleDeps): Promise<Console> {
  const { app, metrics } = await createHttpApp({ service: 'console', logger: withoutTokenInUrls(logger) });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  });

  app.get('/config.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return runtimeConfig(config);
  });
  if (devLoginEnabled(config)) {
    if (!jwtSecret) throw new Error('buildConsole: outside production the development sign-in needs jwtSecret');
    registerDevLogin(app, createTokenService(jwtSecret), config.AUTH_MAX_TOKEN_TTL);
  }

  await app.register(fastifyStatic, {
    root: webRoot,
    index: false,
    cacheControl: false,
    // Vite names what it builds after its content: those files never change; the page itself may.
    setHeaders: (res, file) => {
      const hashed = file.includes(`${path.sep}assets${path.sep}`);
      res.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  for (const page of PAGES) {
    app.get(page, { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
  }

  const index = path.join(webRoot, 'index.html');
  registerProbes(app, metrics, { page: () => existsSync(index) });
  await app.ready();
  return { app, close: () => app.close() };
}
