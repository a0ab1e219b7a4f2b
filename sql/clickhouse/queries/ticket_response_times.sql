-- Ticket first-response and resolution times, in hours, per month of creation
-- (Asia/Shanghai) and priority. Tickets not answered (or not resolved) yet are counted in
-- `tickets` but left out of the times. median is exact up to 8192 tickets per group and
-- sampled above.
SELECT
  toStartOfMonth(created_at, 'Asia/Shanghai')                         AS month,
  priority,
  count()                                                             AS tickets,
  count(first_response_at)                                            AS responded,
  round(avg(toInt64(first_response_at) - toInt64(created_at)) / 3600, 2)    AS avg_first_response_h,
  round(median(toInt64(first_response_at) - toInt64(created_at)) / 3600, 2) AS median_first_response_h,
  count(resolved_at)                                                  AS resolved,
  round(avg(toInt64(resolved_at) - toInt64(created_at)) / 3600, 2)          AS avg_resolution_h,
  round(median(toInt64(resolved_at) - toInt64(created_at)) / 3600, 2)       AS median_resolution_h
FROM tickets_current
WHERE created_at IS NOT NULL
GROUP BY month, priority
ORDER BY month, priority;
