/**
 * The MongoDB connector (tested against FerretDB v1): one `MongoClient` per source, created
 * on first use. A read is `filter AND after(checkpoint)` sorted by `{cursor: 1, key: 1}`,
 * cut into batches whose checkpoint is the compound `(cursor, key)` of their last document.
 */
import { MongoClient, MongoServerError, type Db, type Document, type FindCursor } from 'mongodb';
import { JunctionError } from '../../config/errors.js';
import type { Logger } from '../../config/log.js';
import { DEFAULT_READ_BATCH } from '../fields.js';
import { refuseCut, toJsonValue, toRecord } from '../json.js';
import type { Batch, Checkpoint, CheckResult, Connector, CountOptions, LookupOptions, LookupResult, ReadOptions, StreamInfo } from '../types.js';
import { encodeKey } from './checkpoint-key.js';
import { classifyMongoError } from './errors.js';
import { inferFields } from './infer-fields.js';
import { renderFilter, safeParam } from './lookup-filter.js';
import { effectiveProjection, findForbiddenOperator, keysetFilter, keysetSort, type CursorSpec } from './query.js';
import { otherCursorTypes, startMisfit } from './start-misfit.js';
import { untilAborted } from '../abort.js';

type Projection = Record<string, 0 | 1 | boolean>;

/**
 * BSON types of a cursor field whose checkpoint (JSON text) cannot be turned back into a
 * value of that type: MongoDB compares within one type only, so the next read would match
 * nothing. A key keeps its type (checkpoint-key.ts); a cursor is a date, a number or text.
 */
const UNREADABLE_CURSOR_TYPES = new Set(['Timestamp', 'ObjectId', 'ObjectID', 'Binary']);

export interface MongoStreamOptions {
  collection: string;
  filter: Record<string, unknown>;
  projection?: Projection | undefined;
  /** `updatedAt`, or `[updatedAt, _id]`. */
  cursor?: string | [string, string] | undefined;
  key: string;
  batch_size?: number;
  /** Deadline of one batch query (maxTimeMS and a client-side timer). */
  timeout_ms: number;
}

export interface MongoLookupOptions {
  collection: string;
  filter: Record<string, unknown>;
  projection?: Projection | undefined;
  params: string[];
  timeout_ms: number;
}

/** A MongoDB source as the connector needs it (its resolved config). */
export interface MongoConnectorOptions {
  url: string;
  /** @defaultValue the database in the URL */
  database?: string | undefined;
  streams: Record<string, MongoStreamOptions>;
  lookups: Record<string, MongoLookupOptions>;
}

/** The server forgot the cursor (idle timeout, restart). */
const CURSOR_NOT_FOUND = 43;
/** Documents a lookup returns at most: it feeds an agent's panel, not an export. */
const LOOKUP_LIMIT = 100;
/** Documents `discover()` samples per stream. */
const DISCOVER_SAMPLE = 200;
/** Server selection gives up after this unless the URL says otherwise (the driver's 30 s stalls a read). */
const SERVER_SELECTION_MS = 10_000;

function cursorSpec(stream: Pick<MongoStreamOptions, 'cursor' | 'key'>): CursorSpec {
  return Array.isArray(stream.cursor) ? { cursor: stream.cursor[0], key: stream.cursor[1] } : { cursor: stream.cursor, key: stream.key };
}

/** The value at a dotted path of a document. */
function fieldAt(doc: Document, path: string): unknown {
  let node: unknown = doc;
  for (const step of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Document)[step];
  }
  return node;
}

export class MongoConnector implements Connector {
  readonly type = 'mongo';
  private client: Promise<MongoClient> | undefined;

  constructor(
    readonly source: string,
    private readonly options: MongoConnectorOptions,
    private readonly log: Logger,
  ) {
    // Configured filters are validated by the schema; this also covers programmatic configs.
    for (const [kind, defs] of [['stream', options.streams], ['lookup', options.lookups]] as const) {
      for (const [name, def] of Object.entries(defs)) {
        const found = findForbiddenOperator(def.filter);
        if (found) {
          throw new JunctionError('CFG_INVALID_VALUE', `${kind} ${name}: ${found.operator} is not allowed in a filter (server-side code)`, {
            where: { source, path: `${kind}s.${name}.filter.${found.path}` },
          });
        }
      }
    }
  }

  private getClient(): Promise<MongoClient> {
    if (!this.client) {
      const fromUrl = /[?&]serverSelectionTimeoutMS=/i.test(this.options.url);
      const client = new MongoClient(this.options.url, {
        appName: 'junction',
        ...(fromUrl ? {} : { serverSelectionTimeoutMS: SERVER_SELECTION_MS }),
      });
      const connected = client.connect();
      this.client = connected;
      connected.catch(() => {
        if (this.client === connected) this.client = undefined;
        void client.close().catch(() => undefined);
      });
    }
    return this.client;
  }

  private async db(): Promise<Db> {
    return (await this.getClient()).db(this.options.database || undefined);
  }

  /**
   * Runs `op` with a deadline: `maxTimeMS` stops it on the server, the timer (which also
   * covers connecting) on the client. Errors come back classified.
   */
  private async withDeadline<T>(what: string, timeoutMs: number, caller: AbortSignal | undefined, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = caller ? AbortSignal.any([caller, deadline]) : deadline;
    try {
      if (signal.aborted) throw signal.reason;
      return await untilAborted(op(signal), signal);
    } catch (err) {
      if (caller?.aborted) throw new JunctionError('CONN_ABORTED', `${what}: cancelled`, { where: { source: this.source } });
      if (deadline.aborted && !(err instanceof JunctionError)) {
        throw new JunctionError('CONN_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, { where: { source: this.source }, retryable: true });
      }
      throw classifyMongoError(err, what, { source: this.source });
    }
  }

  async check(): Promise<CheckResult> {
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    const collections = [...new Set(Object.values(this.options.streams).map((s) => s.collection))];
    try {
      await this.withDeadline(`${this.source} check`, SERVER_SELECTION_MS, undefined, async (signal) => {
        const db = await this.db();
        await db.command({ ping: 1 }, { signal });
        // A find per collection proves read permission, not just a live server.
        for (const name of collections) await db.collection(name).find({}, { limit: 1, signal }).toArray();
      });
      return { ok: true, latencyMs: latencyMs(), detail: `ping ok; read ${collections.length} collection(s)` };
    } catch (err) {
      const e = err instanceof JunctionError ? err : classifyMongoError(err, 'check', { source: this.source });
      return { ok: false, latencyMs: latencyMs(), detail: e.message, code: e.code };
    }
  }

  async discover(): Promise<StreamInfo[]> {
    const out: StreamInfo[] = [];
    for (const [name, stream] of Object.entries(this.options.streams)) {
      const spec = cursorSpec(stream);
      const docs = await this.withDeadline(`${this.source} discover ${name}`, stream.timeout_ms, undefined, async (signal) => {
        const collection = (await this.db()).collection(stream.collection);
        const projection = effectiveProjection(stream.projection, spec);
        return collection.find(stream.filter, { limit: DISCOVER_SAMPLE, maxTimeMS: stream.timeout_ms, signal, ...(projection ? { projection } : {}) }).toArray();
      });
      out.push({ name, key: spec.key, cursor: spec.cursor === undefined ? undefined : [spec.cursor, spec.key], fields: inferFields(docs) });
    }
    return out;
  }

  read(stream: string, checkpoint: Checkpoint | null, options: ReadOptions = {}): AsyncIterable<Batch> {
    const def = this.options.streams[stream];
    if (!def) throw new JunctionError('CONN_UNKNOWN_STREAM', `source ${this.source} has no stream ${stream}`, { where: { source: this.source } });
    return this.readPages(stream, def, checkpoint, options);
  }

  /**
   * The documents a read after `checkpoint` would hand out now. A read of everything asks
   * the collection's metadata (`estimatedDocumentCount`): counting documents scans the
   * collection, which FerretDB does slowly.
   */
  async count(stream: string, checkpoint: Checkpoint | null, options: CountOptions = {}): Promise<number> {
    const def = this.options.streams[stream];
    if (!def) throw new JunctionError('CONN_UNKNOWN_STREAM', `source ${this.source} has no stream ${stream}`, { where: { source: this.source } });
    const filter = keysetFilter(def.filter, cursorSpec(def), checkpoint);
    return this.withDeadline(`${this.source} count ${stream}`, def.timeout_ms, options.signal, async (signal) => {
      const collection = (await this.db()).collection(def.collection);
      if (Object.keys(filter).length === 0) return collection.estimatedDocumentCount({ maxTimeMS: def.timeout_ms });
      return collection.countDocuments(filter, { maxTimeMS: def.timeout_ms, signal });
    });
  }

  /**
   * One sorted find for the whole read, cut into batches of `batchSize`. Measured on FerretDB
   * v1 (SQLite), a separate keyset query per batch re-scans and re-sorts the collection each
   * time (100k documents: 856 s against 12 s for one cursor), so the keyset predicate is used
   * where it matters: to start after the checkpoint, and to reopen the cursor from the last
   * batch if the server dropped it (CursorNotFound, e.g. after its idle timeout while the
   * consumer was busy). Checkpoints and tie-safety are the same either way.
   */
  private async *readPages(name: string, def: MongoStreamOptions, checkpoint: Checkpoint | null, options: ReadOptions): AsyncGenerator<Batch> {
    const spec = cursorSpec(def);
    if (checkpoint && spec.cursor === undefined && checkpoint.cursor !== null) {
      throw new JunctionError('CONN_CURSOR', `stream ${name} has no cursor field; its checkpoint carries only a key`, { where: { source: this.source } });
    }
    const what = `${this.source} read ${name}`;
    const projection = effectiveProjection(def.projection, spec);
    const sort = keysetSort(spec);
    const batchSize = Math.min(options.batchSize ?? def.batch_size ?? DEFAULT_READ_BATCH, options.limit ?? Infinity);
    let left = options.limit ?? Infinity;
    let after = checkpoint;
    // Aborted by the caller's signal or by a batch's deadline; the driver then closes the cursor.
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(new JunctionError('CONN_ABORTED', `${what}: cancelled`, { where: { source: this.source } }));
    if (options.signal?.aborted) onCallerAbort();
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let cursor: FindCursor | undefined;
    const open = async () => {
      const collection = (await this.db()).collection(def.collection);
      return collection.find(keysetFilter(def.filter, spec, after), {
        sort,
        batchSize,
        ...(Number.isFinite(left) ? { limit: left } : {}),
        ...(projection ? { projection } : {}),
        signal: controller.signal,
      });
    };
    // `{cursor: X, key: null}` is a start the caller chose (`read --since X`, a backfill's
    // `--from X`); a stored checkpoint always has a key.
    const start = checkpoint?.key === null && checkpoint.cursor !== null && spec.cursor !== undefined ? { field: spec.cursor, value: checkpoint.cursor } : undefined;
    let first = true;
    try {
      while (left > 0) {
        const want = Math.min(batchSize, left);
        let docs: Document[];
        try {
          docs = await this.fill(what, def.timeout_ms, controller, async () => (cursor ??= await open()), want);
        } catch (err) {
          if (!(err instanceof MongoServerError && err.code === CURSOR_NOT_FOUND)) throw err;
          this.log.warn({ stream: name }, 'MongoDB dropped the read cursor; reopening after the last batch');
          cursor = undefined;
          docs = await this.fill(what, def.timeout_ms, controller, async () => (cursor ??= await open()), want);
        }
        if (docs.length === 0) {
          if (first && start) await this.refuseMisfitStart(name, def, start.field, start.value, options.signal);
          return;
        }
        first = false;
        after = this.checkpointOf(docs[docs.length - 1]!, spec);
        left -= docs.length;
        yield { records: docs.map(toRecord), checkpoint: after };
        if (docs.length < want) return;
      }
    } catch (err) {
      throw err instanceof MongoServerError && err.code === CURSOR_NOT_FOUND ? classifyMongoError(err, what, { source: this.source }) : err;
    } finally {
      options.signal?.removeEventListener('abort', onCallerAbort);
      await cursor?.close().catch(() => undefined);
    }
  }

  /**
   * After a read from `start` found nothing: one document (if any) whose cursor field is of a
   * type none of the start's values compares with (start-misfit.ts) fails the read with
   * CONN_CURSOR. Only then, so a read that finds documents never pays for the query; a field
   * of the start's own type (simply nothing newer) stays an empty read.
   */
  private async refuseMisfitStart(name: string, def: MongoStreamOptions, field: string, start: string | number, caller: AbortSignal | undefined): Promise<void> {
    const other = { [field]: { $type: otherCursorTypes(start) } };
    const filter = Object.keys(def.filter).length === 0 ? other : { $and: [def.filter, other] };
    const [found] = await this.withDeadline(`${this.source} read ${name}`, def.timeout_ms, caller, async (signal) => {
      const collection = (await this.db()).collection(def.collection);
      return collection.find(filter, { limit: 1, projection: { [field]: 1 }, maxTimeMS: def.timeout_ms, signal }).toArray();
    });
    if (found) throw startMisfit({ source: this.source, stream: name, collection: def.collection, field }, start, fieldAt(found, field));
  }

  /**
   * Up to `want` documents from the cursor within `timeoutMs`. When the timer fires it
   * aborts the read (the driver closes the cursor) and the batch fails with CONN_TIMEOUT.
   * Server errors that are not CursorNotFound come back classified.
   */
  private async fill(what: string, timeoutMs: number, controller: AbortController, getCursor: () => Promise<FindCursor>, want: number): Promise<Document[]> {
    const timer = setTimeout(
      () => controller.abort(new JunctionError('CONN_TIMEOUT', `${what}: no batch within ${timeoutMs} ms`, { where: { source: this.source }, retryable: true })),
      timeoutMs,
    );
    const signal = controller.signal;
    try {
      const cursor = await untilAborted(getCursor(), signal);
      const docs: Document[] = [];
      while (docs.length < want) {
        const buffered = cursor.bufferedCount();
        if (buffered > 0) {
          docs.push(...cursor.readBufferedDocuments(Math.min(buffered, want - docs.length)));
        } else if (!(await untilAborted(cursor.hasNext(), signal))) {
          break;
        }
      }
      return docs;
    } catch (err) {
      if (signal.aborted && signal.reason instanceof JunctionError) throw signal.reason;
      if (err instanceof MongoServerError && err.code === CURSOR_NOT_FOUND) throw err;
      throw classifyMongoError(err, what, { source: this.source });
    } finally {
      clearTimeout(timer);
    }
  }

  private checkpointOf(doc: Document, spec: CursorSpec): Checkpoint {
    const raw = spec.cursor === undefined ? undefined : (fieldAt(doc, spec.cursor) as { _bsontype?: unknown } | null | undefined);
    const bsonType = typeof raw === 'object' && raw !== null ? raw._bsontype : undefined;
    if (typeof bsonType === 'string' && UNREADABLE_CURSOR_TYPES.has(bsonType)) {
      // Written as text, the next read would compare that text with values of another type
      // and match nothing: every read after the first would come back empty, without a word.
      const shown = toJsonValue(fieldAt(doc, spec.key));
      throw new JunctionError(
        'CONN_CURSOR',
        `the cursor field ${spec.cursor} holds a BSON ${bsonType}, which a checkpoint cannot be read back as: use a date or number field as cursor (an ObjectId _id belongs in key)`,
        { where: { source: this.source, key: typeof shown === 'string' || typeof shown === 'number' ? String(shown) : undefined }, details: { cursor: spec.cursor, bsonType } },
      );
    }
    const cursor = spec.cursor === undefined ? null : toJsonValue(raw);
    // Not the record's JSON value: the key keeps its BSON type (checkpoint-key.ts).
    const key = encodeKey(spec.key, fieldAt(doc, spec.key));
    if (!(cursor === null || typeof cursor === 'string' || typeof cursor === 'number') || key === undefined) {
      const shown = toJsonValue(fieldAt(doc, spec.key));
      throw new JunctionError('CONN_CURSOR', `a document's ${spec.cursor ?? ''}/${spec.key} is not a scalar: cannot checkpoint after it`, {
        where: { source: this.source, key: typeof shown === 'string' || typeof shown === 'number' ? String(shown) : undefined },
      });
    }
    return { cursor, key };
  }

  async lookup(name: string, params: Record<string, unknown>, options: LookupOptions = {}): Promise<LookupResult> {
    const def = this.options.lookups[name];
    if (!def) throw new JunctionError('CONN_UNKNOWN_LOOKUP', `source ${this.source} has no lookup ${name}`, { where: { source: this.source } });
    for (const param of def.params) {
      if (params[param] === undefined) {
        throw new JunctionError('CONN_UNKNOWN_LOOKUP', `lookup ${name} needs parameter ${param}`, { where: { source: this.source }, details: { param } });
      }
      safeParam(param, params[param]);
    }
    const filter = renderFilter(def.filter, params, def.params) as Document;
    const timeoutMs = options.timeoutMs ?? def.timeout_ms;
    const docs = await this.withDeadline(`${this.source} lookup ${name}`, timeoutMs, options.signal, async (signal) => {
      const collection = (await this.db()).collection(def.collection);
      return collection.find(filter, { limit: LOOKUP_LIMIT, maxTimeMS: timeoutMs, signal, ...(def.projection ? { projection: def.projection } : {}) }).toArray();
    });
    this.log.debug({ lookup: name, found: docs.length }, 'mongo lookup');
    return refuseCut(docs.map(toRecord), this.source, `lookup ${name}`);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await (await client.catch(() => undefined))?.close();
  }
}
