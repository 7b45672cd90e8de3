import { Migration20261123000001Initial } from './Migration20261123000001_initial.js';

/** Every migration in order; listed explicitly so the compiled build needs no file discovery. */
export const migrationsList = [
  { name: 'Migration20261123000001_initial', class: Migration20261123000001Initial },
];
