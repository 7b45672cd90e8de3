import { Migration20261123000001Initial } from './Migration20261123000001_initial.js';
import { Migration20261123000020Analytics } from './Migration20261123000020_analytics.js';
import { Migration20261123000030RoutingOpenWindows } from './Migration20261123000030_routing_open_windows.js';
import { Migration20261129000040OutboxWithoutNotify } from './Migration20261129000040_outbox_without_notify.js';
import { Migration20261129000050IntakeOutbox } from './Migration20261129000050_intake_outbox.js';

/** Every migration in order; listed explicitly so the compiled build needs no file discovery. */
export const migrationsList = [
  { name: 'Migration20261123000001_initial', class: Migration20261123000001Initial },
  { name: 'Migration20261123000020_analytics', class: Migration20261123000020Analytics },
  { name: 'Migration20261123000030_routing_open_windows', class: Migration20261123000030RoutingOpenWindows },
  { name: 'Migration20261129000040_outbox_without_notify', class: Migration20261129000040OutboxWithoutNotify },
  { name: 'Migration20261129000050_intake_outbox', class: Migration20261129000050IntakeOutbox },
];
