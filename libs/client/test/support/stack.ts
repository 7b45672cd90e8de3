import { type Account, startTestStack, type TestStack } from '@dibs/test-stack';
import { createDibsApi, type DibsApi, type HttpOptions } from '../../src/index.js';

export interface Person extends Account {
  api: DibsApi;
}

/** The shared test stack (@dibs/test-stack) with an SDK for each person. */
export interface ClientStack extends TestStack {
  admin: DibsApi;
  /** An SDK for `token` against this stack. */
  api(token: string, options?: Partial<HttpOptions>): DibsApi;
  customer(name?: string): Promise<Person>;
  mechanic(first?: string, status?: 'approved' | 'pending'): Promise<Person>;
  /** Turns ENABLE_FAVORITES_PRIORITY on and waits until routing's cache has it. */
  enablePriority(): Promise<void>;
}

export async function startClientStack(
  opts: { minuteMs?: number; intakeEnv?: Record<string, string> } = {},
): Promise<ClientStack> {
  const stack = await startTestStack({ label: 'client', minuteMs: opts.minuteMs ?? 1000, intakeEnv: opts.intakeEnv });
  const api = (token: string, options: Partial<HttpOptions> = {}) =>
    createDibsApi({ baseUrl: stack.apiUrl, token, retry: { baseDelayMs: 50, maxDelayMs: 500 }, ...options });
  const person = (account: Account): Person => ({ ...account, api: api(account.token) });
  // Onto the stack itself, not a copy: its getters (wsUrl, gatewayPort) and the clock skew a test
  // sets must stay the ones the gateway reads.
  return Object.assign(stack, {
    admin: api(stack.adminToken),
    api,
    customer: async (name = 'Dana Driver') => person(await stack.createCustomer(name)),
    mechanic: async (first = 'Ann', status: 'approved' | 'pending' = 'approved') =>
      person(await stack.createMechanic(first, 'Lee', status)),
    enablePriority: () => stack.setPriority(true),
  });
}
