import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';

// The browser tests drive Debian's Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH): Playwright's
// own browser downloads do not work here. On a machine without it, the first test file to need
// it installs Debian's `chromium` package with apt-get when it can (as root); under a lock, so
// test files starting together install it once.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LOCK = '/tmp/dibs-chromium-install.lock';
/** How long the first test file may spend installing Chromium (its `beforeAll` allows as much). */
export const INSTALL_TIMEOUT_MS = 8 * 60_000;
const WHAT_TO_INSTALL = `the console's browser tests need Chromium at ${CHROMIUM}: install Debian's package (\`sudo apt-get install -y chromium\`) or point CHROMIUM_PATH at one`;

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The Chromium to drive; installs Debian's package first when it is missing and this process can. */
export async function ensureChromium(): Promise<string> {
  if (executable(CHROMIUM)) return CHROMIUM;
  const root = process.getuid?.() === 0;
  if (process.env.CHROMIUM_PATH || !root || !executable('/usr/bin/apt-get') || !executable('/usr/bin/flock')) {
    throw new Error(WHAT_TO_INSTALL);
  }
  process.stderr.write('console tests: installing Chromium with apt-get (once per machine)…\n');
  // Install from the package lists there are; when that fails (none yet, or stale), refresh them once.
  const install = 'apt-get install -y -q --no-install-recommends chromium fonts-liberation >/dev/null 2>&1';
  const script = `test -x ${CHROMIUM} && exit 0; ${install} || { apt-get update -q >/dev/null 2>&1 && ${install}; }`;
  try {
    await promisify(execFile)('flock', [LOCK, 'sh', '-c', script], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: INSTALL_TIMEOUT_MS,
    });
  } catch {
    // Said below, in one line.
  }
  if (!executable(CHROMIUM)) throw new Error(`${WHAT_TO_INSTALL} (apt-get could not install it here)`);
  return CHROMIUM;
}

/** A headless Chromium for one test file. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await ensureChromium(),
    headless: true,
    // Keeps a test run's many renderers from exhausting a small /dev/shm.
    args: ['--disable-dev-shm-usage'],
  });
}
