// The seed's SQL, verbatim (seed/favorites-priority-broadcast-system.md, "Testing & Verification"
// and "Analytics Queries"). CONTRACT §5: each runs unchanged against dibs' schema. One copy, here,
// for every test that runs them.

/** Test query 1: all priority requests of one mechanic (the seed inlines the uuid; here it is $1). */
export const SEED_TEST_QUERY_1 = `SELECT *
FROM session_requests
WHERE preferred_mechanic_id = $1
  AND priority_notified_at IS NOT NULL;`;

/** Test query 2: count priority timeouts (by NOW(), as the seed does). */
export const SEED_TEST_QUERY_2 = `SELECT COUNT(*)
FROM session_requests
WHERE preferred_mechanic_id IS NOT NULL
  AND priority_notified_at IS NOT NULL
  AND status = 'pending'
  AND NOW() - priority_notified_at > INTERVAL '10 minutes';`;

/** Test query 3: priority success rate by mechanic (any acceptance). */
export const SEED_TEST_QUERY_3 = `SELECT
  m.first_name || ' ' || m.last_name AS mechanic_name,
  COUNT(*) AS priority_requests,
  COUNT(CASE WHEN sr.status = 'accepted' THEN 1 END) AS accepted,
  ROUND(100.0 * COUNT(CASE WHEN sr.status = 'accepted' THEN 1 END) / COUNT(*), 2) AS success_rate
FROM session_requests sr
JOIN mechanics m ON m.id = sr.preferred_mechanic_id
WHERE sr.preferred_mechanic_id IS NOT NULL
GROUP BY m.id, mechanic_name
ORDER BY priority_requests DESC;`;

export const SEED_SUCCESS_RATE = `
SELECT
  m.first_name || ' ' || m.last_name AS mechanic_name,
  COUNT(*) AS total_priority_requests,
  COUNT(CASE WHEN sr.status = 'accepted' AND sr.mechanic_id = sr.preferred_mechanic_id THEN 1 END) AS accepted_by_preferred,
  ROUND(100.0 * COUNT(CASE WHEN sr.status = 'accepted' AND sr.mechanic_id = sr.preferred_mechanic_id THEN 1 END) / COUNT(*), 2) AS priority_success_rate
FROM session_requests sr
JOIN mechanics m ON m.id = sr.preferred_mechanic_id
WHERE sr.preferred_mechanic_id IS NOT NULL
  AND sr.priority_notified_at IS NOT NULL
GROUP BY m.id, mechanic_name
HAVING COUNT(*) >= 5  -- At least 5 priority requests
ORDER BY priority_success_rate DESC;`;

export const SEED_RESPONSE_TIMES = `
SELECT
  AVG(EXTRACT(EPOCH FROM (sr.accepted_at - sr.priority_notified_at))) / 60 AS avg_response_minutes,
  MIN(EXTRACT(EPOCH FROM (sr.accepted_at - sr.priority_notified_at))) / 60 AS min_response_minutes,
  MAX(EXTRACT(EPOCH FROM (sr.accepted_at - sr.priority_notified_at))) / 60 AS max_response_minutes
FROM session_requests sr
WHERE sr.preferred_mechanic_id IS NOT NULL
  AND sr.priority_notified_at IS NOT NULL
  AND sr.accepted_at IS NOT NULL
  AND sr.mechanic_id = sr.preferred_mechanic_id;  -- Accepted by preferred mechanic`;

export const SEED_TIMEOUT_RATE = `
SELECT
  COUNT(*) AS total_priority_requests,
  COUNT(CASE WHEN NOW() - sr.priority_notified_at > INTERVAL '10 minutes' AND sr.status = 'pending' THEN 1 END) AS timed_out,
  ROUND(100.0 * COUNT(CASE WHEN NOW() - sr.priority_notified_at > INTERVAL '10 minutes' AND sr.status = 'pending' THEN 1 END) / COUNT(*), 2) AS timeout_rate
FROM session_requests sr
WHERE sr.preferred_mechanic_id IS NOT NULL
  AND sr.priority_notified_at IS NOT NULL;`;

export const SEED_FALLBACK_EFFECTIVENESS = `
SELECT
  COUNT(*) AS total_fallbacks,
  COUNT(CASE WHEN sr.status = 'accepted' THEN 1 END) AS accepted_after_fallback,
  ROUND(100.0 * COUNT(CASE WHEN sr.status = 'accepted' THEN 1 END) / COUNT(*), 2) AS fallback_success_rate
FROM session_requests sr
WHERE sr.preferred_mechanic_id IS NOT NULL
  AND sr.priority_notified_at IS NOT NULL
  AND NOW() - sr.priority_notified_at > INTERVAL '10 minutes';`;
