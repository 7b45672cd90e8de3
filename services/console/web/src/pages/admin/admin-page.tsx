import type { Experiment } from '@dibs/client';
import { useConsole } from '../../context.js';
import { useResource } from '../../hooks.js';
import { CustomersPanel } from './customers-panel.js';
import { ExperimentsPanel } from './experiments-panel.js';
import { FlagsPanel } from './flags-panel.js';
import { MechanicsPanel } from './mechanics-panel.js';
import { PlansPanel } from './plans-panel.js';
import { ReportsPanel } from './reports-panel.js';
import { SettingsPanel } from './settings-panel.js';

const SECTIONS = [
  ['flags', 'Feature flag'],
  ['settings', 'Windows'],
  ['mechanics', 'Mechanics'],
  ['customers', 'Customers'],
  ['plans', 'Plans'],
  ['experiments', 'Experiments'],
  ['reports', 'Reports'],
] as const;

/** An admin's page: run the feature (flag, windows, mechanics, experiments) and read how it does. */
export function AdminPage() {
  const { api } = useConsole();
  const experiments = useResource<Experiment[]>(() => api.admin.experiments.list(), []);
  return (
    <>
      <h1>Run favorites priority</h1>
      <nav aria-label="Sections" class="toc">
        <ul>
          {SECTIONS.map(([id, label]) => (
            <li key={id}>
              <a href={`#${id}`}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <FlagsPanel />
      <SettingsPanel />
      <MechanicsPanel />
      <CustomersPanel />
      <PlansPanel />
      <ExperimentsPanel experiments={experiments} />
      <ReportsPanel experiments={experiments.data ?? []} />
    </>
  );
}
