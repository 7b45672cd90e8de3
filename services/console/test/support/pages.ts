import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Where each test leaves screenshots of the pages it saw (kept as artifacts; git ignores them). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

/** A new browser context (its own sessionStorage) with the console open at `url`, desktop-sized by default. */
export async function openPage(browser: Browser, url: string, width = 1280): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(msg.text());
  });
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(url);
  return page;
}

/** Errors the page logged or threw (uncaught exceptions, CSP refusals, failed scripts). */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** Saves a full-page screenshot as `<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Resolves once `read()` satisfies `ok` (polled as the page changes), else fails saying what it last read. */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
}

/**
 * The page at 360 px wide (CONTRACT §8): nothing wider than the screen (wide tables scroll in
 * their own box), and every control named
 * (a control without a name shows in the accessibility snapshot as its bare role).
 */
export async function checkNarrowAndLabelled(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 360, height: 740 });
  await screenshot(page, `${name}-360px`);
  const overflow = await page.evaluate(`[...document.querySelectorAll('body *')]
    .filter((e) => !e.parentElement?.closest('.table-wrap') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))`);
  expect(overflow, 'elements wider than a 360 px screen').toEqual([]);
  const scroll = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(scroll, 'the page scrolls sideways at 360 px').toBeLessThanOrEqual(0);
  const tree = await page.locator('body').ariaSnapshot();
  const unnamed = tree
    .split('\n')
    .filter((line) =>
      /^\s*- (textbox|combobox|checkbox|radio|spinbutton|button|searchbox|slider)\s*(\[[^\]]*\])?:?\s*$/.test(line),
    );
  expect(unnamed, 'controls without an accessible name').toEqual([]);
  await page.setViewportSize({ width: 1280, height: 900 });
}
