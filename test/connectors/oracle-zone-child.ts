/**
 * Run by oracle-zone.test.ts in a child process whose TZ has daylight saving (a process's
 * zone cannot be changed reliably inside vitest). Builds an Oracle driver (it connects to
 * nothing), then takes a DATE stored as the wall clock in argv through oracledb Thin's own
 * codec the way a read and a resumed read do: decoded, emitted, bound back, encoded.
 * Prints JSON on stdout.
 */
import { createRequire } from 'node:module';
import { silentLogger } from '../../config/log.js';
import { createOracleDriver } from '../../connectors/oracle.js';
import { oracleBindValue, oracleWallClockToIso } from '../../connectors/sql/oracle-types.js';

// The stored wall clock, `2026-03-29T02:30:00`, as Oracle's DATE bytes: century+100, year+100, month, day, hour+1, minute+1, second+1.
const [y, mo, d, h, mi, s] = (process.argv[2] ?? '').split(/[-T:]/).map(Number) as [number, number, number, number, number, number];
const STORED = [Math.trunc(y / 100) + 100, (y % 100) + 100, mo, d, h + 1, mi + 1, s + 1];

createOracleDriver({ source: 'zone_test', connect: { user: 'u', password: 'p', connectString: '127.0.0.1:1/none' }, maxConnections: 1, timezone: 'UTC', log: silentLogger });

const oracledb = (await import('oracledb')).default;
// Thin's wire buffer: parseOracleDate is how a fetched DATE becomes a Date, writeOracleDate how a bind is sent.
const { GrowableBuffer } = createRequire(import.meta.url)('oracledb/lib/impl/datahandlers/buffer.js');
const fetched: Date = new GrowableBuffer().parseOracleDate(Buffer.from(STORED));
const emitted = oracleWallClockToIso(fetched, 'UTC');
const bind = oracleBindValue(emitted, { name: 'UPDATED_AT', type: 'datetime', nullable: false, dbType: 'DATE' }, 'UTC', oracledb);
const out = new GrowableBuffer();
if (typeof bind !== 'object') throw new Error('a DATE checkpoint must bind as a typed Date');
out.writeOracleDate(bind.val, bind.type, false);

process.stdout.write(JSON.stringify({ zone: Intl.DateTimeFormat().resolvedOptions().timeZone, emitted, stored: STORED, bound: [...out.buf.subarray(0, out.pos)] }));
