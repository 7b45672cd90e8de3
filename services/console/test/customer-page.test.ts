import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_TIMEOUT_MS, launchChromium } from './support/chromium.js';
import { checkNarrowAndLabelled, openPage, pageProblems, screenshot } from './support/pages.js';
import { type ConsoleStack, type Person, startConsoleStack } from './support/stack.js';

// The customer's page in a real browser against the real services: find approved mechanics, make
// three favorites and rank them, book in sequence, and watch the request move through its tiers.

// A window "minute" lasts 2 s: the tiers' 5, 3 and 2 minutes are 10, 6 and 4 s. The mechanics
// answer well before, so the test moves the tiers itself.
const MINUTE_MS = 2000;
let s: ConsoleStack;
let browser: Browser;
let ada: Person;
let ben: Person;
let cy: Person;

beforeAll(async () => {
  [s, browser] = await Promise.all([startConsoleStack({ minuteMs: MINUTE_MS }), launchChromium()]);
  ada = await s.mechanic('Ada', 'Lovelace');
  ben = await s.mechanic('Ben', 'Franklin');
  cy = await s.mechanic('Cy', 'Young');
  // Not approved: never listed.
  await s.admin.admin.mechanics.create({ first_name: 'Pat', last_name: 'Pending', email: 'pat@pending.example' });
  await s.setPriority(true);
}, INSTALL_TIMEOUT_MS + 60_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('the customer page', () => {
  it('ranks favorites and watches a sequence move through its tiers to the accept', async () => {
    const casey = await s.customer('Casey Jones');
    const page = await openPage(browser, `${s.consoleUrl}/customer?token=${casey.token}`);
    await page.getByRole('heading', { name: 'Book a mechanic' }).waitFor();

    // The directory lists approved mechanics only, and finds them by name.
    const directory = page.getByRole('region', { name: 'Mechanics' });
    const listed = directory.getByRole('list', { name: 'Approved mechanics' });
    await listed.getByText('Cy Young').waitFor();
    expect(await listed.getByRole('listitem').allTextContents()).toEqual([
      'Ben FranklinAdd to favorites',
      'Ada LovelaceAdd to favorites',
      'Cy YoungAdd to favorites',
    ]);
    await directory.getByLabel('Find a mechanic').fill('love');
    await listed.getByText('Ben Franklin').waitFor({ state: 'detached' });
    await directory.getByRole('button', { name: 'Add to favorites: Ada Lovelace' }).click();
    await directory.getByRole('status').filter({ hasText: 'Ada Lovelace is now one of your favorites.' }).waitFor();
    await directory.getByLabel('Find a mechanic').fill('');
    for (const name of ['Ben Franklin', 'Cy Young']) {
      await directory.getByRole('button', { name: `Add to favorites: ${name}` }).click();
      await directory
        .getByRole('status')
        .filter({ hasText: `${name} is now one of your favorites.` })
        .waitFor();
    }

    // Ranked: Ada first, then Ben, then Cy.
    const favorites = page.getByRole('region', { name: 'Your favorites' });
    for (const [name, rank] of [
      ['Ada Lovelace', '1'],
      ['Ben Franklin', '2'],
      ['Cy Young', '3'],
    ] as const) {
      await favorites.getByLabel(`Rank of ${name}`).selectOption(rank);
    }
    await favorites.getByRole('button', { name: 'Save ranking' }).click();
    await favorites
      .getByRole('status')
      .filter({ hasText: 'Ranking saved: 1. Ada Lovelace, 2. Ben Franklin, 3. Cy Young.' })
      .waitFor();
    expect((await casey.api.favorites.list()).map((f) => [f.first_name, f.rank])).toEqual([
      ['Ada', 1],
      ['Ben', 2],
      ['Cy', 3],
    ]);

    // Booked in sequence.
    const booking = page.getByRole('region', { name: 'Book a session' });
    await booking.getByLabel('Session type').selectOption('diagnostic');
    await booking.getByRole('radio', { name: 'My ranked favorites in turn, then everyone' }).check();
    await booking.getByRole('button', { name: 'Book' }).click();
    await booking
      .getByRole('status')
      .filter({ hasText: /^Booked: request [0-9a-f]{8}/ })
      .waitFor();
    const [request] = (await casey.api.sessionRequests.list()).items;
    expect(request?.routing_type).toBe('priority_sequence');
    const id = request!.id;

    // Followed live: each tier as the gateway reports it.
    const card = page.getByRole('article', { name: `Request ${id.slice(0, 8)}` });
    const now = card.locator('.request__now');
    const tiers = card.getByRole('list', { name: `Tiers of Request ${id.slice(0, 8)}` });
    await now.getByText('Tier 1: offered to Ada Lovelace only.').waitFor();
    await card.getByRole('timer', { name: 'Time left in tier 1' }).waitFor();
    await screenshot(page, 'customer-tier-1');
    await ada.api.sessionRequests.decline(id);
    await now.getByText('Tier 2: offered to Ben Franklin only.').waitFor();
    await tiers.getByText('Tier 1: Ada Lovelace — declined').waitFor();
    await ben.api.sessionRequests.decline(id);
    await now.getByText('Tier 3: offered to Cy Young only.').waitFor();
    await tiers.getByText('Tier 2: Ben Franklin — declined').waitFor();
    await cy.api.sessionRequests.accept(id);
    await now.getByText(/^Accepted by Cy Young at /).waitFor();
    await tiers.getByText('Tier 3: Cy Young — accepted').waitFor();
    expect(await tiers.getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^Tier 1: Ada Lovelace — declined/),
      expect.stringMatching(/^Tier 2: Ben Franklin — declined/),
      expect.stringMatching(/^Tier 3: Cy Young — accepted/),
    ]);
    await card.getByText('accepted', { exact: true }).waitFor();
    await screenshot(page, 'customer-accepted');
    await checkNarrowAndLabelled(page, 'customer');
    expect(pageProblems(page)).toEqual([]);
  });
});
