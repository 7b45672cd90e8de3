import { SESSION_REQUEST_INSTANTS, SessionRequestSchema } from '@dibs/contracts';
import {
  newSessionRequestRecord,
  SESSION_REQUEST_COLUMNS,
  SESSION_REQUEST_FIELDS,
  type SessionRequestRecord,
  sqlOf,
  toSessionRequest,
} from '@dibs/db';
import { expect, it } from 'vitest';
import { useDatabase } from './support/database.js';

const given = useDatabase();

it('the contract describes the table: every field a column, exactly the instants timestamptz', async () => {
  const { rows } = await given.db.query<{ column_name: string; data_type: string }>(
    `select column_name, data_type from information_schema.columns where table_name = 'session_requests'`,
  );
  const types = new Map(rows.map((r) => [r.column_name, r.data_type]));
  for (const field of SESSION_REQUEST_FIELDS) expect(types.has(field), field).toBe(true);
  const instants = SESSION_REQUEST_FIELDS.filter((f) => types.get(f) === 'timestamp with time zone');
  expect(instants.sort()).toEqual([...SESSION_REQUEST_INSTANTS].sort());
});

it('maps a stored row to the contract alike, whether its instants arrive as text (ORM) or as Date (pg)', async () => {
  const { rows: customers } = await given.db.query<{ id: string }>(
    `insert into customers (name, email) values ('Dana', 'dana@x.test') returning id`,
  );
  const created = new Date('2027-01-04T12:00:00.123Z');
  const row = newSessionRequestRecord({
    customer_id: customers[0]?.id as string,
    customer_name: 'Dana',
    session_type: 'video',
    plan_code: 'basic',
    routing_type: 'broadcast',
    priority_window_minutes: 10,
    created_at: created,
  });
  const columns = SESSION_REQUEST_FIELDS.map((f) => `"${f}"`).join(', ');
  const values = SESSION_REQUEST_FIELDS.map((_, i) => `$${i + 1}`).join(', ');
  await given.db.query(
    `insert into session_requests (${columns}) values (${values})`,
    SESSION_REQUEST_FIELDS.map((f) => row[f]),
  );
  const select = `select ${SESSION_REQUEST_COLUMNS} from session_requests where id = $1`;
  const viaOrm = (await sqlOf(given.orm.em).query<SessionRequestRecord>(select, [row.id])).rows[0];
  const viaPg = (await given.db.query(select, [row.id])).rows[0] as SessionRequestRecord;
  expect(typeof viaOrm?.created_at).toBe('string');
  expect(viaPg.created_at).toBeInstanceOf(Date);

  const request = toSessionRequest(viaOrm as SessionRequestRecord);
  expect(toSessionRequest(viaPg)).toEqual(request);
  expect(SessionRequestSchema.parse(request)).toEqual(request);
  expect(request).toMatchObject({ status: 'pending', created_at: created.toISOString(), priority_expires_at: null });
});
