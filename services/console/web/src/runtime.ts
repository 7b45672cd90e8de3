// Where the API and the gateway are, from the console server's `GET /config.json`: configured URLs,
// or the host this page came from on the services' ports (what `npm start` runs).

export interface Runtime {
  apiUrl: string;
  wsUrl: string;
  devLogin: boolean;
}

interface RuntimeConfig {
  api_url: string | null;
  ws_url: string | null;
  intake_port: number;
  gateway_port: number;
  dev_login: boolean;
}

/** Reads the console server's runtime config and resolves the API and gateway URLs against `location`. */
export async function loadRuntime(location: Location = window.location): Promise<Runtime> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`the console server answered ${res.status} for /config.json`);
  const config = (await res.json()) as RuntimeConfig;
  const secure = location.protocol === 'https:';
  return {
    apiUrl: config.api_url ?? `${location.protocol}//${location.hostname}:${config.intake_port}`,
    wsUrl: config.ws_url ?? `${secure ? 'wss' : 'ws'}://${location.hostname}:${config.gateway_port}/v1/ws`,
    devLogin: config.dev_login,
  };
}
