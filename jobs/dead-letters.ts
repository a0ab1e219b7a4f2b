/**
 * Dead letters (`hub.dead_letter`) as the ops API lists them: newest first, paged by id
 * (`before`), filtered; the list leaves the raw payload out, a single letter carries it.
 */
import type pg from 'pg';
import { payloadOf } from '../pipelines/dead-letter.js';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export interface DeadLetterView {
  id: number;
  runId: number | null;
  source: string;
  stream: string;
  sourceKey: string | null;
  stage: string;
  errorCode: string;
  errorMessage: string;
  mappingVersion: string | null;
  createdAt: string;
  replayedAt: string | null;
  replayRunId: number | null;
  /** Only on a single letter. */
  payload?: unknown;
}

export interface DeadLetterFilter {
  source?: string;
  stream?: string;
  stage?: string;
  errorCode?: string;
  /** true: only replayed letters; false: only those still waiting. */
  replayed?: boolean;
  since?: Date;
  before?: number;
  /** @defaultValue 50 */
  limit?: number;
}

interface Row {
  id: string;
  run_id: string | null;
  source: string;
  stream: string;
  source_key: string | null;
  stage: string;
  error_code: string;
  error_message: string;
  mapping_version: string | null;
  created_at: Date;
  replayed_at: Date | null;
  replay_run_id: string | null;
  payload?: unknown;
}

const COLUMNS = 'id, run_id, source, stream, source_key, stage, error_code, error_message, mapping_version, created_at, replayed_at, replay_run_id';
const num = (v: string | null) => (v === null ? null : Number(v));

function toView(r: Row): DeadLetterView {
  const view: DeadLetterView = {
    id: Number(r.id),
    runId: num(r.run_id),
    source: r.source,
    stream: r.stream,
    sourceKey: r.source_key,
    stage: r.stage,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    mappingVersion: r.mapping_version,
    createdAt: r.created_at.toISOString(),
    replayedAt: r.replayed_at?.toISOString() ?? null,
    replayRunId: num(r.replay_run_id),
  };
  if ('payload' in r) view.payload = payloadOf(r.payload);
  return view;
}

export async function listDeadLetters(db: Queryable, f: DeadLetterFilter = {}): Promise<{ deadLetters: DeadLetterView[]; next: number | null }> {
  const limit = f.limit ?? 50;
  const res = await db.query<Row>(
    `SELECT ${COLUMNS} FROM hub.dead_letter
      WHERE ($1::text IS NULL OR source = $1) AND ($2::text IS NULL OR stream = $2) AND ($3::text IS NULL OR stage = $3)
        AND ($4::text IS NULL OR error_code = $4) AND ($5::boolean IS NULL OR (replayed_at IS NOT NULL) = $5)
        AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::bigint IS NULL OR id < $7)
      ORDER BY id DESC LIMIT $8`,
    [f.source ?? null, f.stream ?? null, f.stage ?? null, f.errorCode ?? null, f.replayed ?? null, f.since ?? null, f.before ?? null, limit + 1],
  );
  const deadLetters = res.rows.slice(0, limit).map(toView);
  return { deadLetters, next: res.rows.length > limit ? deadLetters[deadLetters.length - 1]!.id : null };
}

export async function getDeadLetter(db: Queryable, id: number): Promise<DeadLetterView | undefined> {
  const res = await db.query<Row>(`SELECT ${COLUMNS}, payload FROM hub.dead_letter WHERE id = $1`, [id]);
  return res.rows[0] && toView(res.rows[0]);
}
