// The seed's "Analytics Queries", verbatim (seed/favorites-priority-broadcast-system.md).

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
