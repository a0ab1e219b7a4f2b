/**
 * Dead letters (`hub.dead_letter`): a record that failed a stage, with the stage, error code
 * and message, mapping version and raw payload, so `junction dlq replay` can run it again
 * through the current mapping. Written in the batch's transaction: the batch goes on.
 *
 * PostgreSQL's text and jsonb cannot hold U+0000, which legacy sources do send (C strings,
 * padded CHAR columns), nor can jsonb hold a lone UTF-16 surrogate (a JSON API that cut a
 * string inside an emoji: `"\ud83d"`), which fails the insert with 22P02. The payload is
 * kept whole anyway: one holding either is stored as the base64 of its JSON text under
 * {@link NUL_WRAPPER} and read back exactly by {@link payloadOf} (JSON.stringify writes
 * both as ASCII escapes, so the text round-trips); the key and message, which are for
 * people, show U+FFFD in their place.
 */
import type { Pool, PoolClient } from 'pg';
import { surrogatePath } from './load/values.js';
import { cutDeep } from './map/canonical-json.js';
import type { RecordFailure } from './types.js';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** The one key of a stored payload that had to be wrapped. */
export const NUL_WRAPPER = '$junction_base64_json';

function isWrapped(v: unknown): v is Record<typeof NUL_WRAPPER, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === NUL_WRAPPER;
}

/**
 * The JSON text to store for a record: itself (cut where it nests too deep), or wrapped when
 * it holds a NUL (JSON writes it `\u0000`), a lone surrogate in a string or a key, or would
 * read back as a wrapper.
 */
export function storedPayload(record: unknown): string {
  // A record nested too deep (MAP_RECORD_TOO_DEEP) is stored cut; any other comes out whole.
  const raw = cutDeep(record);
  const json = JSON.stringify(raw) ?? 'null';
  if (!json.includes('\\u0000') && surrogatePath(raw) === null && !isWrapped(raw)) return json;
  return JSON.stringify({ [NUL_WRAPPER]: Buffer.from(json, 'utf8').toString('base64') });
}

/** The payload as the source sent it, from what the table holds. */
export function payloadOf<T = unknown>(stored: unknown): T {
  return (isWrapped(stored) ? JSON.parse(Buffer.from(stored[NUL_WRAPPER], 'base64').toString('utf8')) : stored) as T;
}

const LONE_SURROGATES = /\p{Cs}/gu;

/** Text for a text column: U+0000 and lone surrogates shown as U+FFFD. */
export function storableText<T extends string | null | undefined>(text: T): T {
  return (typeof text === 'string' ? text.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATES, '\uFFFD') : text) as T;
}

/** Inserts every failure of a batch with one statement. */
export async function writeDeadLetters(tx: Queryable, runId: number | null, failures: readonly RecordFailure[]): Promise<void> {
  if (failures.length === 0) return;
  await tx.query(
    `INSERT INTO hub.dead_letter (run_id, source, stream, source_key, stage, error_code, error_message, mapping_version, payload)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])`,
    [
      runId,
      failures.map((f) => f.source),
      failures.map((f) => f.stream),
      failures.map((f) => storableText(f.sourceKey)),
      failures.map((f) => f.stage),
      failures.map((f) => f.code),
      failures.map((f) => storableText(f.message)),
      failures.map((f) => f.mappingVersion ?? null),
      failures.map((f) => storedPayload(f.raw)),
    ],
  );
}
