import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_TIMEOUT_MS, launchChromium } from './support/chromium.js';
import { checkNarrowAndLabelled, openPage, pageProblems, screenshot, until } from './support/pages.js';
import { type ConsoleStack, startConsoleStack } from './support/stack.js';

// The mechanic's page in a real browser against the real services: a priority offer arrives with
// a countdown and a visual cue, and the mechanic accepts it from the keyboard. And signing in
// (CONTRACT §8): a pasted token opens its role's page; outside production the development
// sign-in makes whoever is needed.

// A window "minute" lasts 2 s: the 10-minute window is 20 s, long enough to watch it count down.
const MINUTE_MS = 2000;
let s: ConsoleStack;
let browser: Browser;

beforeAll(async () => {
  [s, browser] = await Promise.all([startConsoleStack({ minuteMs: MINUTE_MS }), launchChromium()]);
}, INSTALL_TIMEOUT_MS + 60_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('the mechanic page', () => {
  it('receives a priority offer with a running countdown and a visual cue, and accepts it', async () => {
    const ada = await s.mechanic('Ada', 'Lovelace');
    const casey = await s.customer('Casey Jones');
    await casey.api.favorites.add(ada.id);
    await s.setPriority(true);

    const page = await openPage(browser, `${s.consoleUrl}/?token=${ada.token}`);
    await page.getByRole('heading', { name: 'Your offers' }).waitFor();
    // The token left the address bar; the path names the page.
    await page.waitForURL(`${s.consoleUrl}/mechanic`);
    const offers = page.getByRole('region', { name: 'Live offers' });
    await offers
      .getByRole('status')
      .filter({ hasText: /^Live$/ })
      .waitFor();
    await page.getByRole('region', { name: 'Who favorited you' }).getByRole('cell', { name: 'Casey' }).waitFor();

    const booked = await casey.api.sessionRequests.book({
      session_type: 'diagnostic',
      plan_code: 'basic',
      preferred_mechanic_id: ada.id,
      routing_type: 'priority_broadcast',
    });
    const offer = page.getByRole('article', { name: 'Priority offer from Casey Jones' });
    await offer.waitFor();
    await offer.getByText('Casey Jones specifically requested you! You have 10 minutes priority access.').waitFor();
    // The cue: an alert on the page and a star in the tab's title; no sound.
    await offers.getByRole('alert').filter({ hasText: 'New priority offer.' }).waitFor();
    await until(
      () => page.title(),
      (title) => /^★ New priority offer · Mechanic/.test(title),
      'the cue in the tab title',
    );
    expect(await page.locator('audio, video').count()).toBe(0);
    // The countdown runs down to the window's end.
    const timer = offer.getByRole('timer', { name: 'Time left to answer Casey Jones' });
    const first = await timer.textContent();
    expect(first).toMatch(/^0:(20|1\d) left$/);
    const later = await until(
      () => timer.textContent(),
      (text) => text !== first,
      'the countdown to move',
    );
    expect(Number(later?.match(/0:(\d\d)/)?.[1])).toBeLessThan(Number(first?.match(/0:(\d\d)/)?.[1]));
    await screenshot(page, 'mechanic-offer');

    // Accepted from the keyboard.
    await offer.getByRole('button', { name: "Accept Casey Jones's request" }).focus();
    await page.keyboard.press('Enter');
    await offers.getByRole('status').filter({ hasText: "You accepted Casey Jones's diagnostic session." }).waitFor();
    await offer.waitFor({ state: 'detached' });
    await page.getByRole('region', { name: 'Taken by you' }).getByText('Casey Jones').waitFor();
    expect(await casey.api.sessionRequests.get(booked.id)).toMatchObject({
      status: 'accepted',
      mechanic_id: ada.id,
      fallback_reason: null,
    });
    await until(
      () => page.title(),
      (title) => !title.includes('★'),
      'the tab title without the cue',
    );

    // The numbers follow, as analytics catches up.
    const stats = page.getByRole('region', { name: 'Your numbers' });
    await until(
      async () => {
        await stats.getByRole('button', { name: 'Refresh numbers' }).click();
        return stats.locator('dt:text-is("Priority accepted") + dd').textContent();
      },
      (text) => text === '1',
      'priority accepted in the stats',
    );
    await screenshot(page, 'mechanic-accepted');
    expect(pageProblems(page)).toEqual([]);
  });

  it('sets availability and a weekly schedule, which the API then holds', async () => {
    const ben = await s.mechanic('Ben', 'Franklin');
    const page = await openPage(browser, `${s.consoleUrl}/?token=${ben.token}`);
    const panel = page.getByRole('region', { name: 'Availability' });
    await panel.getByLabel('Available for priority offers').uncheck();
    await panel.getByLabel('Only at set times each week').check();
    await panel.getByLabel('Day of slot 1').selectOption('Tuesday');
    await panel.getByLabel('Time zone').fill('Europe/Berlin');
    await panel.getByRole('button', { name: 'Save availability' }).click();
    await panel.getByRole('status').filter({ hasText: 'Saved: you are away' }).waitFor();
    expect(await ben.api.mechanics.availability()).toEqual({
      available: false,
      schedule: [{ day: 2, from: '09:00', to: '17:00' }],
      timezone: 'Europe/Berlin',
    });
    await checkNarrowAndLabelled(page, 'mechanic');
    expect(pageProblems(page)).toEqual([]);
  });
});

describe('signing in', () => {
  it("opens the pasted token's page, refuses what is not a token, and signs out", async () => {
    const casey = await s.customer('Casey Jones');
    const page = await openPage(browser, s.consoleUrl);
    const form = page.getByRole('region', { name: 'With a token' });
    await form.getByLabel('Token').fill('not-a-token');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await form.getByRole('alert').filter({ hasText: 'That is not a token' }).waitFor();
    await screenshot(page, 'sign-in');
    await checkNarrowAndLabelled(page, 'sign-in');

    await form.getByLabel('Token').fill(`Bearer ${casey.token}`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Book a mechanic' }).waitFor();
    await page.waitForURL(`${s.consoleUrl}/customer`);
    // The session lasts as long as the tab: a reload keeps it.
    await page.reload();
    await page.getByRole('heading', { name: 'Book a mechanic' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(pageProblems(page)).toEqual([]);
  });

  it('makes a new mechanic with the development sign-in and opens their page', async () => {
    const page = await openPage(browser, s.consoleUrl);
    const dev = page.getByRole('region', { name: 'Development sign-in' });
    await dev.getByRole('radio', { name: 'mechanic' }).check();
    await dev.getByLabel('Name of the new mechanic').fill('Mo Wrench');
    await dev.getByRole('button', { name: 'Sign in as mechanic' }).click();
    await page.getByRole('heading', { name: 'Your offers' }).waitFor();
    await page
      .getByRole('region', { name: 'Live offers' })
      .getByRole('status')
      .filter({ hasText: /^Live$/ })
      .waitFor();
    const mo = (await s.admin.admin.mechanics.list()).find((m) => m.first_name === 'Mo');
    expect(mo).toMatchObject({ last_name: 'Wrench', status: 'approved' });
    expect(await page.getByText(`Signed in as mechanic ${mo?.id.slice(0, 8)}`).count()).toBe(1);
    expect(pageProblems(page)).toEqual([]);
  });
});
