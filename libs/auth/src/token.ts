import { parseArgs } from 'node:util';
import { envPieces, loadConfig, resolveJwtSecret, runMain, z } from '@dibs/config';
import { createTokenService, ROLES, type Role } from './index.js';

// `npm run token -- --role mechanic --sub <uuid> [--ttl 3600]`: prints a token signed with the
// secret the services use (AUTH_JWT_SECRET, or the dev secret outside production).
await runMain('token', async () => {
  const { values } = parseArgs({
    options: { role: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string', default: '3600' } },
  });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw usage(`--role must be one of ${ROLES.join(', ')}`);
  if (!values.sub || !z.uuid().safeParse(values.sub).success) throw usage('--sub must be a uuid');
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) throw usage('--ttl must be a positive number of seconds');
  const cfg = loadConfig(z.object({ NODE_ENV: envPieces.NODE_ENV, AUTH_JWT_SECRET: envPieces.AUTH_JWT_SECRET }));
  const tokens = createTokenService(resolveJwtSecret(cfg));
  process.stdout.write(`${await tokens.sign({ sub: values.sub, role }, ttl)}\n`);
});

function usage(problem: string): Error {
  process.stderr.write(
    `token: ${problem}\nusage: npm run token -- --role customer|mechanic|admin --sub <uuid> [--ttl seconds]\n`,
  );
  process.exit(64);
}
