/**
 * Connections to the hub database (Junction's own PostgreSQL: unified view, runs, gateway).
 * Every one starts its session with fixed formats, whatever the server, database or role
 * sets: node-postgres parses times from text in ISO form only (under `DateStyle 'SQL, DMY'`
 * a `synced_at` came back as another date or Invalid Date), and the CLI prints times and
 * floats as the session writes them. The hub is ours, so a startup option is enough (the
 * source connector, which may sit behind a pooler, sets them per transaction instead).
 */
import pg from 'pg';

/** The session settings of every hub connection (libpq's `options`). */
export const HUB_SESSION = '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3';

type PoolOptions = Omit<pg.PoolConfig, 'connectionString' | 'options'>;

/** A pool on the hub database at `url`. */
export function hubPool(url: string, options: PoolOptions = {}): pg.Pool {
  return new pg.Pool({ ...options, connectionString: url, options: HUB_SESSION });
}

/** One (not yet connected) client on the hub database at `url`. */
export function hubClient(url: string, options: Omit<pg.ClientConfig, 'connectionString' | 'options'> = {}): pg.Client {
  return new pg.Client({ ...options, connectionString: url, options: HUB_SESSION });
}
