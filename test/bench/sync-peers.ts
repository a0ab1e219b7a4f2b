/**
 * The raw peers of `bench sync`, run on the very rows the end-to-end sync produced:
 *
 * - PostgreSQL: the resolve bench's physical floor (`rawPeer`: COPY into a temp table plus
 *   one INSERT … ON CONFLICT merge) over the synced records as the unified view holds them
 *   (key, identity keys, mapped fields, lineage);
 * - ClickHouse: a plain `@clickhouse/client` insert of every row the sync sent to the
 *   analytics tables, read back as TabSeparated and inserted unchanged into a copy of those
 *   tables in a database of its own.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { PROJECT_ROOT, type StackSettings } from '../../config/env.js';
import type { JsonValue } from '../../connectors/types.js';
import type { TargetName } from '../../pipelines/model.js';
import { createClickhouseClient } from '../../pipelines/sinks/clickhouse-client.js';
import type { FieldOrigin, MappedRecord } from '../../pipelines/types.js';
import { migrateClickhouse } from '../../sql/migrate.js';
import { rawPeer } from './resolve.js';

export interface PeerFigure {
  seconds: number;
  /** Source records whose rows the peer wrote, per second (comparable with the sync's rate). */
  recordsPerSec: number;
}

const ENTITY: Record<string, string> = { order: 'unified."order"', ticket: 'unified.ticket', crm_profile: 'unified.crm_profile' };
const LINK_COLUMNS = `ARRAY['source', 'stream', 'source_key', 'customer_id', 'synced_at']`;

/** The synced records as MappedRecords again, from the unified view the sync wrote. */
export async function syncedRecords(db: pg.ClientBase): Promise<MappedRecord[]> {
  const entityFields = Object.entries(ENTITY)
    .map(([target, table]) => `WHEN '${target}' THEN (SELECT to_jsonb(e) - ${LINK_COLUMNS} FROM ${table} e
        WHERE e.source = sr.source AND e.stream = sr.stream AND e.source_key = sr.source_key)`)
    .join('\n');
  const res = await db.query<{ source: string; stream: string; source_key: string; target: TargetName; payload_hash: string; identity_keys: string[]; mapping_version: string; fields: Record<string, JsonValue> | null; origins: Record<string, FieldOrigin> | null }>(
    `SELECT sr.source, sr.stream, sr.source_key, sr.target, sr.payload_hash, sr.identity_keys, sr.mapping_version,
            CASE sr.target ${entityFields} ELSE sr.fields END AS fields, mo.origins
       FROM unified.source_record sr LEFT JOIN unified.mapping_origin mo ON mo.mapping_version = sr.mapping_version`,
  );
  return res.rows.map((r) => ({
    source: r.source,
    stream: r.stream,
    target: r.target,
    sourceKey: r.source_key,
    fields: r.fields ?? {},
    identities: r.identity_keys.map((k) => {
      const at = k.indexOf(':');
      return { kind: k.slice(0, at), value: k.slice(at + 1) };
    }),
    payloadHash: r.payload_hash,
    raw: {},
    origins: r.origins ?? {},
    mappingVersion: r.mapping_version,
  }));
}

/** COPY + one merge of the synced records into a table shaped like unified.source_record. */
export async function postgresPeer(db: pg.Client, records: readonly MappedRecord[]): Promise<PeerFigure> {
  const seconds = await rawPeer(db, records);
  return { seconds: Number(seconds.toFixed(2)), recordsPerSec: Math.round(records.length / seconds) };
}

/** Tables the sync writes analytics rows to (sync_runs is bookkeeping, not the records). */
const ANALYTICS_TABLES = ['orders', 'tickets', 'customers'];

/**
 * Every analytics row of `database` inserted again, table by table with one insert each,
 * into `<database>_peer` (same DDL). `records` is the number of source records behind them.
 */
export async function clickhousePeer(settings: StackSettings, database: string, records: number): Promise<PeerFigure & { rows: number }> {
  const peerDb = `${database}_peer`;
  const source = createClickhouseClient(settings, { database, requestTimeoutMs: 300_000 });
  const admin = createClickhouseClient(settings, { database: 'default' });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${peerDb}` });
  await migrateClickhouse(settings.services.clickhouse.url, peerDb, path.join(PROJECT_ROOT, 'sql', 'clickhouse'));
  const peer = createClickhouseClient(settings, { database: peerDb, requestTimeoutMs: 300_000 });
  try {
    const dumps: { table: string; text: string; rows: number }[] = [];
    for (const table of ANALYTICS_TABLES) {
      const text = await (await source.query({ query: `SELECT * FROM ${table}`, format: 'TabSeparated' })).text();
      dumps.push({ table, text, rows: text === '' ? 0 : text.split('\n').length - 1 });
    }
    const started = performance.now();
    for (const d of dumps) {
      if (d.rows > 0) await peer.insert({ table: d.table, values: Readable.from([d.text], { objectMode: false }), format: 'TabSeparated' });
    }
    const seconds = (performance.now() - started) / 1000;
    return { rows: dumps.reduce((n, d) => n + d.rows, 0), seconds: Number(seconds.toFixed(2)), recordsPerSec: Math.round(records / seconds) };
  } finally {
    await peer.command({ query: `DROP DATABASE IF EXISTS ${peerDb}` }).catch(() => undefined);
    await Promise.all([source.close(), peer.close(), admin.close()]);
  }
}
