/**
 * The ops REST API, mounted at `/api/ops` behind the admin token (jobs/auth.ts). Bodies and
 * queries are validated with zod (400 OPS_BAD_REQUEST naming the field; unknown keys are
 * errors); every error is JSON `{ error: { code, message } }` (jobs/http-errors.ts).
 *
 * GET  sources                        sources and streams: checkpoint, lag, counts, last run, dead letters, circuit
 * GET  runs?source&stream&status&trigger&limit&before    newest first; `next` is the following page's `before`
 * GET  runs/:id
 * GET  schedules
 * POST schedules/:name/run | pause | resume
 * POST syncs {source, stream, mode, from?, to?, batchSize?}  → 202 {jobId}
 * GET  dead-letters?source&stream&stage&code&replayed&since&limit&before
 * GET  dead-letters/:id               with its raw payload
 * POST dead-letters/replay {source?, stream?, since?, ids?} | {all: true}   runs pipelines/replay.ts
 *
 * POST bodies must be sent as JSON: express.json() leaves any other body unread, and an
 * unread body must never pass for an empty one (an empty replay filter selects every letter).
 */
import express, { type Request, type Router } from 'express';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import * as z from 'zod';
import { isJunctionError, JunctionError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../config/log.js';
import { enqueueSync, type SyncJobData, type SyncJobResult } from '../pipelines/queue.js';
import { syncJobOptions } from '../pipelines/job-options.js';
import { replayDeadLetters } from '../pipelines/replay.js';
import { checkSyncRequest } from '../pipelines/run-sync.js';
import { getDeadLetter, listDeadLetters } from './dead-letters.js';
import { badRequest } from './http-errors.js';
import { getRun, listRuns, RUN_STATUSES } from './runs.js';
import { listSchedules, runSchedule, setSchedulePaused } from './schedules.js';
import { streamsStatus } from './streams-status.js';
import type { JobKeys } from './stream-activity.js';

export interface OpsApiDeps {
  config: ResolvedConfig;
  pool: pg.Pool;
  redis: Redis;
  queue: Queue<SyncJobData, SyncJobResult>;
  log: Logger;
  /** Passed to dead-letter replay so replayed rows reach ClickHouse too. */
  clickhouse?: ClickHouseClient;
  keys?: JobKeys;
}

const id = z.string().regex(/^\d{1,15}$/, { error: 'expected a numeric id' }).transform(Number);
const page = { limit: z.coerce.number().int().min(1).max(500).optional(), before: id.optional() };
// PostgreSQL text cannot hold U+0000: refused here, naming the parameter, rather than by the query.
const name = z.string().min(1).max(200).refine((v) => !v.includes('\u0000'), { error: 'holds a NUL character (U+0000)' });
const since = z.iso.datetime({ offset: true, error: 'expected an ISO-8601 time with offset, e.g. 2026-01-31T00:00:00Z' });

const runsQuery = z.strictObject({ source: name.optional(), stream: name.optional(), status: z.enum(RUN_STATUSES).optional(), trigger: name.optional(), ...page });
const lettersQuery = z.strictObject({
  source: name.optional(),
  stream: name.optional(),
  stage: z.enum(['extract', 'map', 'resolve', 'load']).optional(),
  code: name.optional(),
  replayed: z.stringbool().optional(),
  since: since.optional(),
  ...page,
});
const syncBody = z
  .strictObject({
    source: name,
    stream: name,
    mode: z.enum(['incremental', 'full', 'backfill']).default('incremental'),
    from: z.string().min(1).optional(),
    to: z.string().min(1).optional(),
    batchSize: z.number().int().min(1).max(50_000).optional(),
  })
  .refine((b) => (b.mode === 'backfill') === (b.from !== undefined && b.to !== undefined), {
    error: 'mode backfill needs from and to; other modes take neither',
    path: ['mode'],
  });
const replayBody = z
  .strictObject({
    source: name.optional(),
    stream: name.optional(),
    since: since.optional(),
    ids: z.array(z.number().int().positive()).min(1).max(10_000).optional(),
    /** Every pending letter: an empty filter says so only by mistake (a body nobody read, say). */
    all: z.literal(true).optional(),
  })
  .superRefine((b, ctx) => {
    const filtered = b.source !== undefined || b.stream !== undefined || b.since !== undefined || b.ids !== undefined;
    if (b.all && filtered) ctx.addIssue({ code: 'custom', path: ['all'], message: 'all replays every pending letter: give it without source, stream, since or ids' });
    if (!b.all && !filtered) ctx.addIssue({ code: 'custom', path: [], message: 'give ids, source, stream or since, or {"all": true} to replay every pending dead letter' });
  });

function parse<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'params'): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw badRequest(r.error, part);
  return r.data;
}

/**
 * The JSON body of a POST. express.json() parses `application/json` (and `+json`) only and
 * leaves `req.body` undefined otherwise, as with no body at all: a form-encoded `{"ids":[2]}`
 * (curl -d without a Content-Type) is refused here, naming its type, instead of being read as
 * `{}`.
 */
function jsonBody<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  if (req.body === undefined) {
    const type = req.get('content-type');
    if (type !== undefined) {
      throw new JunctionError('OPS_UNSUPPORTED_MEDIA_TYPE', `body: expected JSON (Content-Type: application/json), got Content-Type ${type}`, { where: { path: 'body' } });
    }
    throw new JunctionError('OPS_BAD_REQUEST', 'body: expected a JSON object (Content-Type: application/json), got no body', { where: { path: 'body' } });
  }
  return parse(schema, req.body, 'body');
}

/** OPS_BAD_REQUEST unless `source` (and `stream`, when given) are declared. */
function checkStream(config: ResolvedConfig, source: string | undefined, stream: string | undefined): void {
  if (source === undefined) {
    if (stream !== undefined) throw new JunctionError('OPS_BAD_REQUEST', 'body.stream: give the source too', { where: { path: 'body.stream' } });
    return;
  }
  // Own properties only: `constructor` is not a source, nor a stream.
  const src = Object.hasOwn(config.sources, source) ? (config.sources[source] as { streams?: Record<string, unknown> }) : undefined;
  if (!src) throw new JunctionError('OPS_BAD_REQUEST', `body.source: no source named ${source}; declared: ${Object.keys(config.sources).join(', ')}`, { where: { path: 'body.source' } });
  if (stream !== undefined && !(src.streams && Object.hasOwn(src.streams, stream))) {
    throw new JunctionError('OPS_BAD_REQUEST', `body.stream: source ${source} has no stream ${stream}; declared: ${Object.keys(src.streams ?? {}).join(', ')}`, {
      where: { path: 'body.stream', source },
    });
  }
}

/**
 * What the CLI refuses before queueing (a disabled source: 422 CONN_SOURCE_DISABLED; a range
 * that is not two cursor values in order: 400 naming body.from or body.to), refused here too
 * rather than by a worker after a 202.
 */
function checkRequest(config: ResolvedConfig, b: { source: string; stream: string; mode: SyncJobData['mode']; from?: string; to?: string }): void {
  try {
    checkSyncRequest(config, b, { from: 'body.from', to: 'body.to' });
  } catch (err) {
    if (!isJunctionError(err) || err.code !== 'SYNC_BAD_RANGE') throw err;
    throw new JunctionError('OPS_BAD_REQUEST', err.message, { where: { path: `body.${String(err.details?.field ?? 'from')}`, source: b.source }, cause: err });
  }
}

const notFound = (what: string) => new JunctionError('OPS_NOT_FOUND', `no ${what}`);
const who = (req: Request) => `ops-api@${req.ip ?? 'unknown'}`;

export function opsApiRouter(deps: OpsApiDeps): Router {
  const { config, pool, redis, queue, log } = deps;
  const r = express.Router();
  r.use(express.json({ limit: '256kb' }));

  r.get('/sources', async (_req, res) => {
    res.json({ sources: await streamsStatus({ config, pool, redis, keys: deps.keys }) });
  });

  r.get('/runs', async (req, res) => {
    const q = parse(runsQuery, req.query, 'query');
    res.json(await listRuns(pool, q));
  });
  r.get('/runs/:id', async (req, res) => {
    const { id: runId } = parse(z.object({ id }), req.params, 'params');
    const run = await getRun(pool, runId);
    if (!run) throw notFound(`run ${runId}`);
    res.json({ run });
  });

  r.get('/schedules', async (_req, res) => {
    res.json({ schedules: await listSchedules({ config, pool, queue }) });
  });
  r.post('/schedules/:name/run', async (req, res) => {
    const out = await runSchedule(config, queue, String(req.params.name), 'ops');
    res.status(202).json(out);
  });
  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    r.post(`/schedules/:name/${action}`, async (req, res) => {
      const state = await setSchedulePaused(config, pool, String(req.params.name), paused, who(req));
      log.info({ schedule: req.params.name, by: who(req) }, `schedule ${action}d`);
      res.json({ name: req.params.name, ...state });
    });
  }

  r.post('/syncs', async (req, res) => {
    const b = jsonBody(req, syncBody);
    checkStream(config, b.source, b.stream);
    checkRequest(config, b);
    const data: SyncJobData = { source: b.source, stream: b.stream, mode: b.mode, trigger: 'ops', from: b.from, to: b.to, batchSize: b.batchSize };
    const job = await enqueueSync(queue, data, syncJobOptions(config.pipelines)).catch((err: unknown) => {
      throw new JunctionError('JOB_ENQUEUE_FAILED', `could not enqueue ${b.source}.${b.stream}: ${(err as Error).message}`, { cause: err, retryable: true });
    });
    res.status(202).json({ jobId: String(job.id), data });
  });

  r.get('/dead-letters', async (req, res) => {
    const q = parse(lettersQuery, req.query, 'query');
    res.json(await listDeadLetters(pool, { ...q, errorCode: q.code, since: q.since ? new Date(q.since) : undefined }));
  });
  r.get('/dead-letters/:id', async (req, res) => {
    const { id: letterId } = parse(z.object({ id }), req.params, 'params');
    const letter = await getDeadLetter(pool, letterId);
    if (!letter) throw notFound(`dead letter ${letterId}`);
    res.json({ deadLetter: letter });
  });
  r.post('/dead-letters/replay', async (req, res) => {
    const b = jsonBody(req, replayBody);
    checkStream(config, b.source, b.stream);
    const filter = { source: b.source, stream: b.stream, since: b.since ? new Date(b.since) : undefined, ids: b.ids };
    log.info({ filter, all: b.all === true, by: who(req) }, 'dead-letter replay requested');
    res.json(await replayDeadLetters({ config, pool, redis, clickhouse: deps.clickhouse, log, filter }));
  });

  r.use((req) => {
    throw notFound(`ops endpoint ${req.method} ${req.baseUrl}${req.path}`);
  });
  return r;
}
