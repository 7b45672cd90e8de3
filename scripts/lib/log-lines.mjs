// Turns the services' output into prefixed lines: `intake       │ <line>`. Pino JSON lines are
// shown as-is (a log shipper can still parse what follows the prefix) unless `pretty` is on, which
// `npm start` turns on for a terminal: then a line reads `12:00:01.250 INFO  listening port=3000`.

const ANSI = { reset: '\x1b[0m', dim: '\x1b[2m', bold: '\x1b[1m', red: '\x1b[31m', yellow: '\x1b[33m' };
const SERVICE_COLORS = ['\x1b[36m', '\x1b[35m', '\x1b[32m', '\x1b[34m', '\x1b[33m', '\x1b[96m'];
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS = { 40: ANSI.yellow, 50: ANSI.red, 60: ANSI.red };
const HIDDEN = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'service', 'v']);

/** Whether to colour output written to `stream`, honouring NO_COLOR and FORCE_COLOR. */
export function wantsColor(stream) {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** A function that prefixes one line of `name`'s output for the terminal. */
export function createPrefixer({ names, color, pretty }) {
  const width = Math.max(...names.map((n) => n.length));
  const colours = new Map(names.map((n, i) => [n, SERVICE_COLORS[i % SERVICE_COLORS.length]]));
  const paint = (code, text) => (color ? `${code}${text}${ANSI.reset}` : text);
  const label = (name) => paint(colours.get(name) ?? ANSI.bold, `${name.padEnd(width)} │`);

  return {
    /** One line of a child's stdout/stderr. */
    line(name, raw) {
      const text = pretty ? prettyLine(raw, paint) : raw;
      return text
        .split('\n')
        .map((part) => `${label(name)} ${part}`)
        .join('\n');
    },
    /** A message from the supervisor itself about `name` (restarts, exits). */
    notice(name, text, severity = 'warn') {
      const code = severity === 'error' ? ANSI.red : severity === 'info' ? ANSI.dim : ANSI.yellow;
      return `${label(name)} ${paint(code, `▲ ${text}`)}`;
    },
  };
}

/** Renders a pino JSON line compactly; any other line is returned unchanged. */
export function prettyLine(raw, paint = (_c, t) => t) {
  if (!raw.startsWith('{')) return raw;
  let entry;
  try {
    entry = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof entry !== 'object' || entry === null || !('level' in entry)) return raw;
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : clock(entry.time);
  const level = LEVELS[entry.level] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k) && k !== 'err')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const err = entry.err && typeof entry.err === 'object' ? `\n${entry.err.stack ?? entry.err.message}` : '';
  const levelText = paint(LEVEL_COLORS[entry.level] ?? ANSI.dim, level.padEnd(5));
  return `${paint(ANSI.dim, time)} ${levelText} ${entry.msg ?? ''}${fields.length ? ` ${paint(ANSI.dim, fields.join(' '))}` : ''}${err}`;
}

function clock(epochMs) {
  const d = typeof epochMs === 'number' ? new Date(epochMs) : new Date();
  return d.toISOString().slice(11, 23);
}

/** Splits a stream into lines and calls `onLine` for each (the last partial line on end). */
export function eachLine(stream, onLine) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) onLine(part.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
}
