import { serviceEnv } from '@dibs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, destroyWorld, type World } from './support/fixture.js';
import { builtScript, type Child, spawnNode } from './support/processes.js';

// `node services/routing/dist/main.js`, as Kubernetes and `npm start` run it.
let world: World;
const children: Child[] = [];

beforeAll(async () => {
  world = await createWorld('boot');
});
afterAll(async () => {
  for (const c of children) await c.kill('SIGTERM');
  await destroyWorld(world);
});

function run(extra: Record<string, string>): Child {
  const child = spawnNode(
    builtScript('dist/main.js'),
    serviceEnv(world.db, world.prefix, { LOG_LEVEL: 'info', ...extra }),
  );
  children.push(child);
  return child;
}

describe('routing as a process', () => {
  it('refuses to start on invalid configuration, with one readable line per bad value', async () => {
    const child = run({ PRIORITY_MINUTE_MS: 'soon', ROUTING_SWEEP_MS: '-1' });
    expect(await child.exited).toEqual({ code: 78, signal: null });
    const text = child.stderr();
    expect(text).toMatch(/^routing: invalid configuration: /);
    expect(text).toContain('PRIORITY_MINUTE_MS');
    expect(text).toContain('ROUTING_SWEEP_MS');
    expect(text.trim().split('\n')).toHaveLength(1);
  });

  it('says where NATS was expected when it is unreachable', async () => {
    const child = run({ NATS_URL: 'nats://127.0.0.1:1' });
    expect((await child.exited).code).toBe(69);
    expect(child.stderr()).toMatch(/NATS is not reachable at nats:\/\/127\.0\.0\.1:1/);
  });

  it('serves /healthz, /readyz and /metrics on ROUTING_PORT and stops cleanly on SIGTERM', async () => {
    const child = run({ ROUTING_PORT: '0', HOST: '127.0.0.1' });
    await child.waitForLog('routing probes listening');
    const address = child.logs.find((l) => l.msg === 'routing probes listening')?.address as string;
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    const ready = await fetch(`${address}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { nats: 'ok', db: 'ok' } });
    expect(await (await fetch(`${address}/metrics`)).text()).toContain('routing_open_windows');
    await child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});
