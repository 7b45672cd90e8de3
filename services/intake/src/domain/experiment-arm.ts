import { createHash } from 'node:crypto';

// Which arm of an experiment a customer lands in (CONTRACT §7), twice: as a pure function (the
// definition, and what tests reason with) and as the SQL the booking statement runs (the decision
// made in the one statement that stores the request). Both live here so that they change together;
// test/experiment-arm.test.ts checks on PostgreSQL that they pick the same arm. Changing either
// moves customers to other arms mid-experiment: the hash is frozen for as long as experiments run.

/** 2^52: the first 13 hex digits of a sha256 are a 52-bit integer, exact in a double. */
const SPAN = 2 ** 52;

/**
 * The customer's point on [0, 1) for experiment `key`: the first 13 hex digits of
 * sha256(utf8(customer_id ':' key)) as an integer, over 2^52. `customerId` in its canonical form
 * (lowercase, as PostgreSQL prints a uuid), so that the SQL below hashes the same bytes.
 */
export function experimentPoint(customerId: string, key: string): number {
  const hex = createHash('sha256').update(`${customerId}:${key}`, 'utf8').digest('hex');
  return Number.parseInt(hex.slice(0, 13), 16) / SPAN;
}

/**
 * The arm for `customerId` in experiment `key`: arms in their stored order, cumulative weights
 * normalised to 1, the first arm whose cumulative share exceeds the customer's point. The sums are
 * taken left to right, as PostgreSQL's running `sum` takes them, so both see the same doubles.
 */
export function experimentArm<A extends { weight: number }>(customerId: string, key: string, arms: readonly A[]): A {
  const u = experimentPoint(customerId, key);
  const cumulative: number[] = [];
  let total = 0;
  for (const arm of arms) {
    total += arm.weight;
    cumulative.push(total);
  }
  // The last share is total / total = 1 > u, so some arm always qualifies.
  const index = cumulative.findIndex((c) => c / total > u);
  return arms[index] as A;
}

/**
 * `experimentArm` as an SQL expression: the chosen element of the jsonb array `arms`, for the
 * uuid expression `customer` and the text expression `key` (each an SQL expression, e.g. `$2::uuid`
 * and `e.key`). `sha256` is PostgreSQL's (11+); `bit(52)::bigint` reads the 13 hex digits.
 */
export function experimentArmSql(customer: string, key: string, arms: string): string {
  const point = `('x' || left(encode(sha256(convert_to(${customer}::text || ':' || ${key}, 'UTF8')), 'hex'), 13))
      ::bit(52)::bigint::float8 / ${SPAN}::float8`;
  return `(select c.arm from (
      select t.arm, t.ord, sum((t.arm ->> 'weight')::float8) over w as cumulative,
        sum((t.arm ->> 'weight')::float8) over (w rows between unbounded preceding and unbounded following) as total
      from jsonb_array_elements(${arms}) with ordinality t(arm, ord)
      window w as (order by t.ord)) c
    where c.cumulative / c.total > ${point}
    order by c.ord limit 1)`;
}
