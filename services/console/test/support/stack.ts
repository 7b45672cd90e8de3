import { existsSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { createDibsApi, type DibsApi } from '@dibs/client';
import { DEV_JWT_SECRET } from '@dibs/config';
import { type Account, startTestStack } from '@dibs/test-stack';
import type { TestDatabase } from '@dibs/testing';
import { buildConsole, DEFAULT_WEB_ROOT, loadConsoleConfig } from '../../src/app.js';

export interface Person extends Account {
  api: DibsApi;
}

/**
 * The whole system for one browser test file: intake, gateway and the console listening on free
 * ports of 127.0.0.1, routing and analytics beside them, on a database and NATS prefix of their
 * own. The console runs with its defaults: the page finds the API and the gateway on its own host
 * at INTAKE_PORT / GATEWAY_PORT, and they accept its origin because they know CONSOLE_PORT.
 */
export interface ConsoleStack {
  db: TestDatabase;
  /** http://127.0.0.1:<console port> */
  consoleUrl: string;
  apiUrl: string;
  admin: DibsApi;
  adminToken: string;
  customer(name: string): Promise<Person>;
  mechanic(first: string, last: string): Promise<Person>;
  /** Turns ENABLE_FAVORITES_PRIORITY on (or off) and waits until routing's cache has it. */
  setPriority(on: boolean): Promise<void>;
  /** Waits until routing's flag cache holds `on`. */
  routingSees(on: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleStack(opts: { minuteMs: number }): Promise<ConsoleStack> {
  if (!existsSync(path.join(DEFAULT_WEB_ROOT, 'index.html'))) {
    throw new Error('the console page is not built: run `npm run build` (npm test builds it first)');
  }
  // Chosen before the services start: intake and the gateway allow the console's origin from it.
  const consolePort = await freePort();
  const stack = await startTestStack({
    label: 'console',
    minuteMs: opts.minuteMs,
    env: { CONSOLE_PORT: String(consolePort) },
  });
  const web = await buildConsole({
    config: loadConsoleConfig({
      ...stack.env,
      INTAKE_PORT: String(stack.intakePort),
      GATEWAY_PORT: String(stack.gatewayPort),
    }),
    logger: stack.logger,
    jwtSecret: DEV_JWT_SECRET,
  });
  await web.app.listen({ port: consolePort, host: '127.0.0.1' });

  const api = (token: string) =>
    createDibsApi({ baseUrl: stack.apiUrl, token, retry: { baseDelayMs: 50, maxDelayMs: 500 } });
  const person = (account: Account): Person => ({ ...account, api: api(account.token) });
  return {
    db: stack.db,
    consoleUrl: `http://127.0.0.1:${consolePort}`,
    apiUrl: stack.apiUrl,
    admin: api(stack.adminToken),
    adminToken: stack.adminToken,
    customer: async (name) => person(await stack.createCustomer(name)),
    mechanic: async (first, last) => person(await stack.createMechanic(first, last, 'approved')),
    setPriority: stack.setPriority,
    routingSees: stack.routingSees,
    async close() {
      await web.close();
      await stack.close();
    },
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
