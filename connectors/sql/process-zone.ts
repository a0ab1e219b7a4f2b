/**
 * The process's local time zone, pinned to UTC for the Oracle driver. oracledb Thin builds
 * the Date of a DATE or TIMESTAMP value with `new Date(y, m, d, h, …)`, in local time, and
 * binds one from its local fields (`getHours()`). In a zone with daylight saving, the wall
 * clocks of a spring-forward gap do not exist: a stored 02:30 comes back as 03:30, and a
 * checkpoint at 02:30 binds as 03:30. In UTC every wall clock exists once, so the local
 * fields are exactly what the database holds.
 *
 * bin/junction.js pins every Junction process at start; this covers the other ways in
 * (tests, scripts). Nothing in Junction reads the local zone (schedules, mappings and the
 * SQL connectors name theirs; logs, ClickHouse and PostgreSQL get instants), so the change
 * is invisible elsewhere. It writes `process.env` outside config/ (STYLE 5) because it must
 * happen before oracledb is first used, and only for processes that read Oracle.
 */

/** Makes the process zone UTC; returns the zone it replaced, or undefined when it was UTC. */
export function pinUtcProcessZone(): string | undefined {
  // Node reports every UTC alias (Etc/UTC, GMT, Universal) as 'UTC'.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone === 'UTC') return undefined;
  // Node applies a TZ assigned at run time to Date and Intl at once.
  process.env.TZ = 'UTC';
  return zone;
}
