// `npm run demo`: plays the seed's story (priority offer → accept; timeout → broadcast → another
// mechanic accepts; decline → immediate broadcast; analytics), then ranked favorites offered in
// sequence (one away and skipped, one letting its tier pass, the third accepting), and prints it
// as a timeline.
//
// By default it runs its own short-lived dibs — the four services, supervised as `npm start` does,
// on free ports with their own database and NATS prefix — where a priority "minute" lasts
// DEMO_MINUTE_MS (default 500 ms, so the 10-minute window is 5 s), and removes it afterwards.
// To play against a stack you started yourself (e.g. `PRIORITY_MINUTE_MS=500 npm start`), set
// DEMO_INTAKE_URL=http://localhost:3000 DEMO_GATEWAY_URL=ws://localhost:3001 (and DEMO_CONSOLE_URL
// when the console is not at http://localhost:3004).
//
// Once the cast exists it prints a console link for each of them (admin, the three mechanics, the
// customer), signed in for an hour, to watch the story in a browser: `--wait` pauses there until
// Enter, `--keep` keeps the private dibs up after the story until Ctrl-C. A lasting story:
// DEMO_MINUTE_MS=3000 npm run demo -- --wait --keep
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { startPrivateStack } from './lib/demo-stack.mjs';
import { playStory } from './lib/demo-story.mjs';
import { createPrefixer, wantsColor } from './lib/log-lines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const color = wantsColor(process.stdout);
const actors = ['dibs', 'admin', 'Casey', 'Ada', 'Ben', 'Cy', 'gateway', 'routing', 'analytics'];
const prefixer = createPrefixer({ names: actors, color, pretty: false });
const started = Date.now();
const note = (actor, text) => {
  const t = `${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s`;
  console.log(`${color ? '\x1b[2m' : ''}${t}${color ? '\x1b[0m' : ''} ${prefixer.line(actor, text)}`);
};

const { DEV_JWT_SECRET } = await import(path.join(root, 'libs/config/dist/index.js'));
const { createTokenService } = await import(path.join(root, 'libs/auth/dist/index.js'));
const secret = process.env.AUTH_JWT_SECRET || DEV_JWT_SECRET;
const tokens = createTokenService(secret);
const sign = (role, sub) => tokens.sign({ role, sub }, 3600);

const flags = new Set(process.argv.slice(2));
const wait = flags.has('--wait');
const keep = flags.has('--keep');

/** Prints a console link per member of the cast, each signed in as them (and waits for Enter with --wait). */
async function printConsoleLinks(consoleUrl, { admin, mechanics, customer }) {
  const link = (token) => `${consoleUrl}/?token=${token}`;
  note('dibs', `watch it in the console at ${consoleUrl}: each link below signs in as one of the cast for an hour`);
  note('admin', `admin page      ${link(admin)}`);
  for (const [name, m] of Object.entries(mechanics)) note(name, `mechanic page   ${link(m.token)}`);
  note('Casey', `customer page   ${link(customer.token)}`);
  if (wait && process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    await rl.question('open the pages, then press Enter to play the story… ');
    rl.close();
  }
}

let stack;
let exitCode = 0;
try {
  let urls;
  let minuteMs;
  let windowMs;
  if (process.env.DEMO_INTAKE_URL) {
    urls = {
      intakeUrl: process.env.DEMO_INTAKE_URL,
      gatewayUrl: process.env.DEMO_GATEWAY_URL ?? 'ws://localhost:3001',
      consoleUrl: process.env.DEMO_CONSOLE_URL ?? 'http://localhost:3004',
    };
    minuteMs = Number(process.env.PRIORITY_MINUTE_MS || 60_000);
    windowMs = Number(process.env.PRIORITY_WINDOW_MINUTES || 10) * minuteMs;
    note(
      'dibs',
      `playing against ${urls.intakeUrl} (its priority window must be short, or the timeout part waits for it)`,
    );
  } else {
    minuteMs = Number(process.env.DEMO_MINUTE_MS || 500);
    windowMs = 10 * minuteMs;
    note('dibs', `starting a private dibs for the demo (a priority minute lasts ${minuteMs} ms)…`);
    stack = await startPrivateStack({ root, secret, minuteMs });
    urls = stack.urls;
    note(
      'dibs',
      `up: API ${urls.intakeUrl}, WebSocket ${urls.gatewayUrl}, console ${urls.consoleUrl} (database ${stack.database}, removed afterwards)`,
    );
  }
  const { intakeUrl, gatewayUrl, consoleUrl } = urls;
  await playStory({
    intakeUrl,
    gatewayUrl,
    sign,
    note,
    windowMs,
    minuteMs,
    timeoutMs: windowMs + 30_000,
    onCast: (cast) => printConsoleLinks(consoleUrl, cast),
  });
  note('dibs', 'that was the whole story.');
  if (keep && stack) {
    note('dibs', `the demo's dibs stays up for the console (${consoleUrl}); Ctrl-C stops it and removes its data`);
    await new Promise((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, resolve);
    });
  }
} catch (err) {
  exitCode = 1;
  console.error(`demo failed: ${err.message}`);
  if (stack) for (const line of stack.recentLogs()) console.error(line);
} finally {
  if (stack) await stack.stop();
}
process.exit(exitCode);
