import type { Orm } from '@dibs/db';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's one way to its data (docs/decisions/014-data-access.md), from `dibs-orm`. */
    orm: Orm;
    /** The service's NATS connection, dibs' streams provisioned, from `dibs-nats`. */
    nats: NatsConnection;
  }
}

/**
 * A connection handed to an app. `main.ts` opened it for this app alone and hands it over
 * (`owned: true`): the app frees it when it closes. A test or the e2e stack that shares one
 * connection between several apps keeps it (`owned: false`) and frees it itself, once, afterwards.
 */
export interface Handed<C> {
  connection: C;
  owned: boolean;
}

/**
 * `dibs-orm`: decorates `app.orm`. Registered before the service's own work, so that Fastify,
 * which runs plugins' `onClose` hooks last-registered first, stops that work before closing it.
 */
export const ormPlugin = fp<Handed<Orm>>(
  async (app, { connection, owned }) => {
    app.decorate('orm', connection);
    if (owned) app.addHook('onClose', () => connection.close());
  },
  { name: 'dibs-orm', fastify: '5.x' },
);

/**
 * `dibs-nats`: decorates `app.nats`. Its `onClose` drains the connection (what was published is
 * flushed, subscriptions finish what they hold); registered after `dibs-orm`, so it closes before it.
 */
export const natsPlugin = fp<Handed<NatsConnection>>(
  async (app, { connection, owned }) => {
    app.decorate('nats', connection);
    if (owned) app.addHook('onClose', () => connection.drain().catch(() => undefined));
  },
  { name: 'dibs-nats', fastify: '5.x' },
);

/**
 * Registers the service's background work (consumers, responders, sweepers, relays) as the plugin
 * `name`, depending on the infrastructure plugins: its `stop` runs when the app closes, before
 * `dibs-nats` and `dibs-orm` free what it runs on.
 */
export async function registerWork(
  app: FastifyInstance,
  name: string,
  stop: () => Promise<void>,
  dependencies: string[] = ['dibs-orm', 'dibs-nats'],
): Promise<void> {
  await app.register(
    fp(
      async (instance) => {
        instance.addHook('onClose', stop);
      },
      { name, dependencies },
    ),
  );
}
