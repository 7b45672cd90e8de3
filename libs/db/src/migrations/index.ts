import { Migration20261123000001Initial } from './Migration20261123000001_initial.js';
import { Migration20261123000020Analytics } from './Migration20261123000020_analytics.js';
import { Migration20261123000030RoutingOpenWindows } from './Migration20261123000030_routing_open_windows.js';
import { Migration20261129000040OutboxWithoutNotify } from './Migration20261129000040_outbox_without_notify.js';
import { Migration20261129000050IntakeOutbox } from './Migration20261129000050_intake_outbox.js';
import { Migration20261129000060PrioritySettings } from './Migration20261129000060_priority_settings.js';
import { Migration20261129000070FavoriteRanks } from './Migration20261129000070_favorite_ranks.js';
import { Migration20261129000080MechanicAvailability } from './Migration20261129000080_mechanic_availability.js';
import { Migration20261130000090PrioritySequences } from './Migration20261130000090_priority_sequences.js';
import { Migration20261130000100AnalyticsOffers } from './Migration20261130000100_analytics_offers.js';
import { Migration20261130000110RequestExperimentAndPrice } from './Migration20261130000110_request_experiment_and_price.js';
import { Migration20261130000120ExperimentsAndPlans } from './Migration20261130000120_experiments_and_plans.js';
import { Migration20261130000130AnalyticsInsights } from './Migration20261130000130_analytics_insights.js';

// Listed explicitly so the compiled build needs no file discovery. Ownership: docs/decisions/013-table-ownership.md.

/**
 * The shared baseline: the first migration, shipped before tables had owners, creating tables of
 * intake and routing at once. Frozen (nothing is ever added here); every service applies it under
 * the migration lock, so any service may start first on an empty database.
 */
const baseline = [{ name: 'Migration20261123000001_initial', class: Migration20261123000001Initial }];

/**
 * Each service's own migrations, in order, applied by that service alone. One touches only its
 * owner's tables and depends on nothing but the baseline, so the lists commute: any start order
 * ends in the same schema. Notification owns no table.
 */
export const migrationsByOwner = {
  intake: [
    { name: 'Migration20261129000050_intake_outbox', class: Migration20261129000050IntakeOutbox },
    { name: 'Migration20261129000060_priority_settings', class: Migration20261129000060PrioritySettings },
    { name: 'Migration20261129000070_favorite_ranks', class: Migration20261129000070FavoriteRanks },
    { name: 'Migration20261129000080_mechanic_availability', class: Migration20261129000080MechanicAvailability },
    { name: 'Migration20261130000120_experiments_and_plans', class: Migration20261130000120ExperimentsAndPlans },
  ],
  routing: [
    { name: 'Migration20261123000030_routing_open_windows', class: Migration20261123000030RoutingOpenWindows },
    { name: 'Migration20261129000040_outbox_without_notify', class: Migration20261129000040OutboxWithoutNotify },
    { name: 'Migration20261130000090_priority_sequences', class: Migration20261130000090PrioritySequences },
    {
      name: 'Migration20261130000110_request_experiment_and_price',
      class: Migration20261130000110RequestExperimentAndPrice,
    },
  ],
  analytics: [
    { name: 'Migration20261123000020_analytics', class: Migration20261123000020Analytics },
    { name: 'Migration20261130000100_analytics_offers', class: Migration20261130000100AnalyticsOffers },
    { name: 'Migration20261130000130_analytics_insights', class: Migration20261130000130AnalyticsInsights },
  ],
  notification: [],
};

/** A service that applies migrations at start-up: its own, after the shared baseline. */
export type MigrationOwner = keyof typeof migrationsByOwner;

/** One migration as MikroORM's migrator takes it. */
export type MigrationEntry = (typeof baseline)[number] | (typeof migrationsByOwner)[MigrationOwner][number];

/** What `owner` applies (the baseline, then its own), or every migration for `'all'`. */
export function migrationsOf(owner: MigrationOwner | 'all'): MigrationEntry[] {
  return owner === 'all' ? migrationsList : [...baseline, ...migrationsByOwner[owner]];
}

/** Every migration: the baseline, then each owner's (the test template, `npm run migrate`). */
export const migrationsList: MigrationEntry[] = [
  ...baseline,
  ...migrationsByOwner.intake,
  ...migrationsByOwner.routing,
  ...migrationsByOwner.analytics,
];
