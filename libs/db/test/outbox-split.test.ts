import { randomBytes, randomUUID } from 'node:crypto';
import { natsNames } from '@dibs/contracts';
import { createOrm, createOutboxRelay, ensureDatabase, migrate, migrationsList, type OutboxOwner } from '@dibs/db';
import { createLogger } from '@dibs/logger';
import { provisionStreams } from '@dibs/nats';
import { cleanupNats, connectTestNats, eventually, testPrefix, withDatabase } from '@dibs/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { expect, inject, it } from 'vitest';

const logger = createLogger({ service: 'outbox-split-test', level: 'silent', pretty: false });

it('publishes what waited in the shared outbox before the split, each row by its owner', async () => {
  // A database at the release before the split (…040), with rows its relays had not published.
  const base = inject('dibsDatabaseUrl');
  const url = withDatabase(base, `dibs_split_${randomBytes(6).toString('hex')}`);
  await ensureDatabase(url);
  const db = new pg.Client({ connectionString: url });
  const nc = await connectTestNats();
  const prefix = testPrefix('split');
  try {
    const orm = await createOrm({ url, poolMax: 2 });
    try {
      await orm.migrator.up({
        migrations: migrationsList.map((m) => m.name).filter((n) => n !== 'Migration20261129000050_intake_outbox'),
      });
      await db.connect();
      const waiting = { intake: [randomUUID(), randomUUID()], routing: [randomUUID(), randomUUID(), randomUUID()] };
      const subjects = ['created', 'created', 'priority_notified', 'broadcast', 'accepted'].map(
        (k) => `events.request.${k}`,
      );
      await db.query(
        `insert into outbox (id, subject, payload) select id, subject, '{}'::jsonb from unnest($1::uuid[], $2::text[]) as t(id, subject)`,
        [[...waiting.intake, ...waiting.routing], subjects],
      );

      expect(await migrate(orm, url)).toContain('Migration20261129000050_intake_outbox');
      const ids = async (table: string) =>
        (await db.query<{ id: string }>(`select id from ${table}`)).rows.map((r) => r.id).sort();
      expect(await ids('intake_outbox')).toEqual([...waiting.intake].sort());
      expect(await ids('outbox')).toEqual([...waiting.routing].sort());

      // Each relay publishes its owner's rows, so every row that waited reaches the stream.
      const jsm = await jetstreamManager(nc);
      await provisionStreams(jsm, natsNames(prefix));
      const stream = natsNames(prefix).streams.events;
      for (const owner of ['intake', 'routing'] as OutboxOwner[]) {
        const relay = createOutboxRelay({ databaseUrl: url, owner, js: jetstream(nc), prefix, logger });
        await relay.flush();
        await relay.stop();
      }
      await eventually(async () => (await jsm.streams.info(stream)).state.messages === 5, 5000, 'five stored');
      const stored: string[] = [];
      for (let seq = 1; seq <= 5; seq++) {
        stored.push((await jsm.streams.getMessage(stream, { seq }))?.header?.get('Nats-Msg-Id') ?? '');
      }
      expect(stored.sort()).toEqual([...waiting.intake, ...waiting.routing].sort());
    } finally {
      await orm.close();
    }
  } finally {
    await db.end().catch(() => undefined);
    await nc.close();
    await cleanupNats(prefix);
    const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
    await admin.connect();
    await admin.query(`drop database if exists ${pg.escapeIdentifier(new URL(url).pathname.slice(1))} with (force)`);
    await admin.end();
  }
});
