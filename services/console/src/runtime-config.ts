import type { ConsoleConfig } from './config.js';

/**
 * What the page reads at start (`GET /config.json`): where the API and the gateway are, or, when
 * unset, the ports to find them on the host the page came from; and whether the development
 * sign-in exists. Served at run time, so one build serves every environment.
 */
export interface RuntimeConfig {
  api_url: string | null;
  ws_url: string | null;
  intake_port: number;
  gateway_port: number;
  dev_login: boolean;
}

export function runtimeConfig(config: ConsoleConfig): RuntimeConfig {
  return {
    api_url: config.CONSOLE_API_URL ?? null,
    ws_url: config.CONSOLE_WS_URL ?? null,
    intake_port: config.INTAKE_PORT,
    gateway_port: config.GATEWAY_PORT,
    dev_login: devLoginEnabled(config),
  };
}

/** The development sign-in exists only outside production (CONTRACT §8). */
export function devLoginEnabled(config: Pick<ConsoleConfig, 'NODE_ENV'>): boolean {
  return config.NODE_ENV !== 'production';
}
