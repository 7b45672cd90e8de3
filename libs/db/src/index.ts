export * from './entities/index.js';
export { describeDbError, isDbUnavailable, pgCode } from './errors.js';
export {
  type MigrationEntry,
  type MigrationOwner,
  migrationsByOwner,
  migrationsList,
  migrationsOf,
} from './migrations/index.js';
export {
  createOrm,
  ensureDatabase,
  migrate,
  type Orm,
  type OrmOptions,
  prepareDatabase,
  type SessionSettings,
} from './orm.js';
export {
  enqueue,
  OUTBOX_TABLES,
  type OutboxEntry,
  type OutboxOwner,
  type OutboxWriter,
  outboxMessage,
  payloadJson,
  requestEvent,
} from './outbox.js';
export { createOutboxPublisher, type OutboxPublisher, PUBLISHER_GRACE_MS } from './outbox-publisher.js';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions, type RelayStep } from './outbox-relay.js';
export {
  iso,
  type NewRequestFields,
  newSessionRequestRecord,
  SESSION_REQUEST_COLUMNS,
  SESSION_REQUEST_FIELDS,
  type SessionRequestRecord,
  type StoredOffer,
  sessionRequestColumns,
  toSessionRequest,
} from './session-request.js';
export { type Rows, type Sql, type Statement, sqlOf } from './sql.js';
export { type InTransaction, type UnitOfWork, type UnitOfWorkOptions, unitOfWork } from './unit-of-work.js';
