import type { SessionRequest } from '@dibs/client';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_TIMEOUT_MS, launchChromium } from './support/chromium.js';
import { checkNarrowAndLabelled, openPage, pageProblems, screenshot, until } from './support/pages.js';
import { type ConsoleStack, type Person, startConsoleStack } from './support/stack.js';

// The admin's page in a real browser against the real services: the flag turned on, a mechanic
// approved with a window of its own, a plan priced and an experiment started from the page; then,
// after a few bookings, the charts of every report, drawn with the numbers the API returns.

// A window "minute" lasts 100 ms: the experiment's 20- and 40-minute arms last 2 and 4 s.
const MINUTE_MS = 100;
let s: ConsoleStack;
let browser: Browser;

beforeAll(async () => {
  [s, browser] = await Promise.all([startConsoleStack({ minuteMs: MINUTE_MS }), launchChromium()]);
}, INSTALL_TIMEOUT_MS + 60_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

/** The rows of a table as its cells' texts (header cells of a row included). */
async function rows(table: Locator): Promise<string[][]> {
  const out: string[][] = [];
  for (const row of await table.locator('tbody tr').all()) {
    out.push((await row.locator('th, td').allTextContents()).map((t) => t.trim()));
  }
  return out;
}

const dash = (v: number | null) => (v === null ? '—' : String(v));

/** How many pixels of a canvas are painted (runs in the page). */
function paintedPixels(element: unknown): number {
  const canvas = element as {
    width: number;
    height: number;
    getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
  };
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
  return painted;
}

describe('the admin page', () => {
  it('turns the flag on, runs the feature, and charts the reports with the numbers the API returns', async () => {
    const [ada, ben, cy] = [
      await s.mechanic('Ada', 'Lovelace'),
      await s.mechanic('Ben', 'Franklin'),
      await s.mechanic('Cy', 'Young'),
    ];
    const pat = await s.admin.admin.mechanics.create({
      first_name: 'Pat',
      last_name: 'Pending',
      email: 'pat@pending.example',
    });
    const page = await openPage(browser, `${s.consoleUrl}/?token=${s.adminToken}`);
    await page.getByRole('heading', { name: 'Run favorites priority' }).waitFor();
    await page.waitForURL(`${s.consoleUrl}/admin`);

    // The flag, with its roles and rollout.
    const flag = page.getByRole('form', { name: 'ENABLE_FAVORITES_PRIORITY' });
    await flag.getByRole('checkbox', { name: 'Enabled', exact: true }).check();
    for (const role of ['customer', 'mechanic']) await flag.getByRole('checkbox', { name: role }).check();
    await flag.getByLabel('Rollout (%)').fill('100');
    await flag.getByRole('button', { name: 'Save flag' }).click();
    await flag.getByRole('status').filter({ hasText: 'ENABLE_FAVORITES_PRIORITY is on' }).waitFor();
    expect((await s.admin.admin.flags.list()).find((f) => f.flag_key === 'ENABLE_FAVORITES_PRIORITY')).toMatchObject({
      is_enabled: true,
      rollout_percentage: 100,
      enabled_for_roles: expect.arrayContaining(['customer', 'mechanic']),
    });
    await s.routingSees(true);

    // A pending mechanic approved, with a window of its own.
    const mechanics = page.getByRole('region', { name: 'Mechanics' });
    await mechanics.getByRole('button', { name: 'Approve Pat Pending' }).click();
    await mechanics.getByRole('status').filter({ hasText: 'Pat Pending: approved, the default window.' }).waitFor();
    await mechanics.getByLabel('Own window of Pat Pending (minutes, empty for the default)').fill('7');
    await mechanics.getByRole('button', { name: 'Save Pat Pending' }).click();
    await mechanics.getByRole('status').filter({ hasText: 'Pat Pending: approved, own window 7 min.' }).waitFor();
    expect(await s.admin.admin.mechanics.get(pat.id)).toMatchObject({ status: 'approved', priority_window_minutes: 7 });

    // A plan's price, and an experiment on the window's length.
    const plans = page.getByRole('region', { name: 'Plans' });
    await plans.getByLabel('Plan code').fill('basic');
    await plans.getByLabel('Plan name').fill('Basic');
    await plans.getByLabel('Price', { exact: true }).fill('19');
    await plans.getByRole('button', { name: 'Save plan' }).click();
    await plans.getByRole('status').filter({ hasText: 'Plan basic costs 19.00 EUR.' }).waitFor();
    const experiments = page.getByRole('region', { name: 'Experiments' });
    const form = experiments.getByRole('form', { name: 'New experiment' });
    await form.getByLabel('Experiment key').fill('window-length');
    for (const [i, name, minutes] of [
      [1, 'short', '20'],
      [2, 'long', '40'],
    ] as const) {
      await form.getByLabel(`Name of arm ${i}`).fill(name);
      await form.getByLabel(`Window of arm ${i} (minutes)`).fill(minutes);
    }
    await form.getByLabel('Start it now').check();
    await form.getByRole('button', { name: 'Create experiment' }).click();
    await form.getByRole('status').filter({ hasText: 'Experiment window-length created and running.' }).waitFor();
    await experiments.getByRole('button', { name: 'Stop window-length' }).waitFor();

    // Bookings: accepted by the favorite, timed out, declined (both then taken by others), and a plain broadcast.
    const casey = await s.customer('Casey Jones');
    const dana = await s.customer('Dana Driver');
    await casey.api.favorites.add(ada.id);
    const priority = () =>
      casey.api.sessionRequests.book({ session_type: 'video', plan_code: 'basic', preferred_mechanic_id: ada.id });
    const reach = (who: Person, id: string, ok: (r: SessionRequest) => boolean, what: string) =>
      until(() => who.api.sessionRequests.get(id), ok, what);
    const first = await priority();
    await reach(casey, first.id, (r) => r.priority_notified_at !== null, 'the first offer');
    await ada.api.sessionRequests.accept(first.id);
    const second = await priority();
    await reach(casey, second.id, (r) => r.broadcast_at !== null, 'the timeout');
    await ben.api.sessionRequests.accept(second.id);
    const third = await priority();
    await reach(casey, third.id, (r) => r.priority_notified_at !== null, 'the third offer');
    await ada.api.sessionRequests.decline(third.id);
    await reach(casey, third.id, (r) => r.broadcast_at !== null, 'the broadcast after the decline');
    await cy.api.sessionRequests.accept(third.id);
    const plain = await dana.api.sessionRequests.book({ session_type: 'video', plan_code: 'basic' });
    await reach(dana, plain.id, (r) => r.broadcast_at !== null, 'the plain broadcast');
    await ben.api.sessionRequests.accept(plain.id);
    expect(first.experiment?.key).toBe('window-length');

    // Analytics follows the events; the page shows what the API answers once it has them all.
    const api = s.admin.analytics;
    await until(
      async () => [await api.successRate({ min_requests: 1 }), await api.revenue()] as const,
      ([rates, revenue]) =>
        rates.find((r) => r.mechanic_id === ada.id)?.total_priority_requests === 3 &&
        revenue.by_path.reduce((n, p) => n + p.accepted, 0) === 4,
      'analytics to have the four requests',
    );
    const [successRate, times, timeouts, fallbacks, revenue, experiment] = await Promise.all([
      api.successRate({ min_requests: 1 }),
      api.responseTimes(),
      api.timeoutRate(),
      api.fallbackEffectiveness(),
      api.revenue(),
      api.experiment('window-length'),
    ]);

    // What the API answers is what the page shows: each table once the refreshed reports are in,
    // each chart drawn.
    expect(successRate.find((r) => r.mechanic_id === ada.id)).toMatchObject({
      total_priority_requests: 3,
      accepted_by_preferred: 1,
      priority_success_rate: 33.33,
    });
    expect(timeouts).toMatchObject({ total_priority_requests: 3, timed_out: 1 });
    expect(experiment.arms.reduce((n, a) => n + a.requests, 0)).toBe(3);
    expect(revenue.by_path.reduce((n, p) => n + p.revenue_cents, 0)).toBe(4 * 1900);
    const reports = page.getByRole('region', { name: 'Reports' });
    await reports.getByRole('button', { name: 'Refresh reports' }).click();
    const figure = (title: string) => reports.getByRole('figure', { name: title });
    const expected: [Locator, string[][]][] = [
      [
        figure('Priority success rate by mechanic'),
        successRate.map((r) => [
          r.mechanic_name,
          String(r.total_priority_requests),
          String(r.accepted_by_preferred),
          String(r.priority_success_rate),
          dash(r.avg_seen_seconds),
          String(r.offers_never_seen),
        ]),
      ],
      [
        figure('Response times of favorites (minutes)'),
        [
          ['Average (min)', dash(times.avg_response_minutes)],
          ['Fastest (min)', dash(times.min_response_minutes)],
          ['Slowest (min)', dash(times.max_response_minutes)],
        ],
      ],
      [
        figure('Timeout and fallback rates (%)'),
        [
          [
            'Timed out',
            String(timeouts.total_priority_requests),
            String(timeouts.timed_out),
            String(timeouts.timeout_rate),
          ],
          [
            'Accepted after fallback',
            String(fallbacks.total_fallbacks),
            String(fallbacks.accepted_after_fallback),
            String(fallbacks.fallback_success_rate),
          ],
        ],
      ],
      [
        figure('Experiment window-length: acceptance rate by arm, with its 95 % interval'),
        experiment.arms.map((a) => [
          a.name,
          String(a.window_minutes),
          String(a.requests),
          String(a.accepted_by_preferred),
          dash(a.acceptance_rate),
          a.acceptance_rate_ci95 ? `${a.acceptance_rate_ci95[0]}–${a.acceptance_rate_ci95[1]}` : '—',
          dash(a.avg_response_seconds),
          dash(a.timeout_rate),
          dash(a.median_seconds_to_any_accept),
        ]),
      ],
      [
        figure('Revenue by path (EUR)'),
        revenue.by_path.map((p) => [
          p.path,
          String(p.requests),
          String(p.accepted),
          `${(p.revenue_cents / 100).toFixed(2)} EUR`,
        ]),
      ],
    ];
    for (const [chart, numbers] of expected) {
      const shown = await until(
        () => rows(chart.getByRole('table')),
        (r) => JSON.stringify(r) === JSON.stringify(numbers),
        `${numbers.length} rows of the API's numbers`,
      );
      expect(shown).toEqual(numbers);
      await chart.and(reports.locator('[data-chart="drawn"]')).waitFor();
      expect(await chart.locator('canvas').evaluate(paintedPixels)).toBeGreaterThan(500);
    }
    expect(await expected[0]?.[0].getByRole('img').getAttribute('aria-label')).toContain('Ada Lovelace: 33.33 %');
    await screenshot(page, 'admin-reports');

    // And off again.
    await flag.getByRole('checkbox', { name: 'Enabled', exact: true }).uncheck();
    await flag.getByRole('button', { name: 'Save flag' }).click();
    await flag.getByRole('status').filter({ hasText: 'ENABLE_FAVORITES_PRIORITY is off' }).waitFor();
    await s.routingSees(false);
    await checkNarrowAndLabelled(page, 'admin');
    expect(pageProblems(page)).toEqual([]);
  });
});
