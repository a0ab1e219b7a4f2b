/**
 * The map stage: source records in, mapped records and per-record failures out. Pure (no
 * I/O); a record that cannot be mapped becomes a RecordFailure and the batch goes on.
 *
 * JSONata evaluates asynchronously, but a record whose expressions are all plain paths
 * (the common case) is mapped synchronously: no promise is created for it at all.
 */
import { setImmediate } from 'node:timers/promises';
import { isJunctionError, type ErrorCode } from '../../config/errors.js';
import type { SourceRecord } from '../../connectors/types.js';
import type { IdentityKey, MappedRecord, MapResult, RecordFailure } from '../types.js';
import { cutDeep, sha256Json } from './canonical-json.js';
import type { CompiledMapping } from './compile.js';
import { NEEDS_JSONATA, type Expr } from './expression.js';

/** One record's outcome, in input order (what `junction mapping preview` shows). */
export type MapOutcome = { ok: true; record: MappedRecord } | { ok: false; failure: RecordFailure };

interface Slot {
  /** How errors name it: `key`, `fields.status`, `identity[1] (phone)`. */
  label: string;
  /** Its line in the mapping file. */
  line: number;
  expr: Expr | undefined;
}

/** Slot order: the key, then fields, then identity keys. Built once per compiled mapping. */
const slotCache = new WeakMap<CompiledMapping, Slot[]>();

function slotsOf(m: CompiledMapping): Slot[] {
  let slots = slotCache.get(m);
  if (!slots) {
    slots = [
      { label: 'key', line: m.lines.key, expr: m.key },
      ...m.fields.map((f) => ({ label: `fields.${f.name}`, line: m.origins[f.name]?.line ?? 0, expr: f.expr })),
      ...m.identities.map((id, i) => ({ label: `identity[${i}] (${id.kind})`, line: m.lines.identity[i] ?? 0, expr: id.expr })),
    ];
    slotCache.set(m, slots);
  }
  return slots;
}

function keyText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function failure(m: CompiledMapping, raw: SourceRecord, sourceKey: string | null, code: ErrorCode, message: string): MapOutcome {
  return {
    ok: false,
    failure: { source: m.source, stream: m.stream, sourceKey, stage: 'map', code, message, raw, mappingVersion: m.version },
  };
}

/**
 * The reason an evaluation failed. JSONata throws plain objects (`{ code, message, … }`),
 * not Errors: their message and code, never `[object Object]`.
 */
function describe(err: unknown): string {
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    const { message, code } = err as { message: string; code?: unknown };
    return typeof code === 'string' && /^[A-Z]\d{4}$/.test(code) ? `${message} (JSONata ${code})` : message;
  }
  return String(err);
}

/** Builds the mapped record from the slots' values (everything after evaluation is synchronous). */
function finish(m: CompiledMapping, raw: SourceRecord, payloadHash: string, values: unknown[]): MapOutcome {
  const sourceKey = keyText(values[0]);
  if (sourceKey === null) {
    return failure(m, raw, null, 'MAP_MISSING_KEY', `${m.file}:${m.lines.key} key: ${m.key.text} gives ${JSON.stringify(values[0]) ?? 'nothing'}, not a key`);
  }
  const fields: MappedRecord['fields'] = {};
  let code: ErrorCode | undefined;
  const problems: string[] = [];
  for (let i = 0; i < m.fields.length; i++) {
    const field = m.fields[i]!;
    try {
      fields[field.name] = field.convert(values[i + 1]);
    } catch (err) {
      code ??= isJunctionError(err) ? err.code : 'MAP_EVAL_FAILED';
      problems.push(`${m.file}:${m.origins[field.name]?.line ?? 0} fields.${field.name}: ${describe(err)}`);
    }
  }
  if (code) return failure(m, raw, sourceKey, code, problems.join('; '));

  const identities: IdentityKey[] = [];
  const offset = 1 + m.fields.length;
  for (let i = 0; i < m.identities.length; i++) {
    const id = m.identities[i]!;
    const value = values[offset + i];
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const normal = id.normalize(item);
      if (normal === null || id.blocked.has(normal)) continue;
      if (identities.some((k) => k.kind === id.kind && k.value === normal)) continue;
      identities.push({ kind: id.kind, value: normal });
    }
  }
  return {
    ok: true,
    record: {
      source: m.source,
      stream: m.stream,
      target: m.target,
      sourceKey,
      fields,
      identities,
      payloadHash,
      raw,
      origins: m.origins,
      mappingVersion: m.version,
    },
  };
}

async function evaluateRest(m: CompiledMapping, raw: SourceRecord, payloadHash: string, values: unknown[], pending: number[]): Promise<MapOutcome> {
  const slots = slotsOf(m);
  for (const i of pending) {
    const slot = slots[i]!;
    try {
      values[i] = await slot.expr!.evaluate(raw);
    } catch (err) {
      const sourceKey = i === 0 ? null : keyText(values[0]);
      return failure(m, raw, sourceKey, 'MAP_EVAL_FAILED', `${m.file}:${slot.line} ${slot.label}: ${slot.expr!.text}: ${describe(err)}`);
    }
  }
  return finish(m, raw, payloadHash, values);
}

/**
 * The record's payload hash, or its failure when it nests too deep to hash (or to store, or
 * to give to JSONata as it is): hashed before anything else reads it. The failure keeps the
 * record itself (the page finds its place in the batch by it, pipelines/last-read.ts); what
 * stores or prints it takes its cut copy (dead-letter.ts, `mapping preview`). A key that
 * needs JSONata is read from the cut copy, which is shallow enough for it.
 */
function hashOf(m: CompiledMapping, raw: SourceRecord): string | MapOutcome | Promise<MapOutcome> {
  try {
    return sha256Json(raw);
  } catch (err) {
    if (!isJunctionError(err) || err.code !== 'MAP_RECORD_TOO_DEEP') throw err;
    const message = `${m.file}: the record is ${err.message}; its first levels are kept`;
    const direct = m.key.get ? m.key.get(raw) : NEEDS_JSONATA;
    if (direct !== NEEDS_JSONATA) return failure(m, raw, keyText(direct), err.code, message);
    return m.key
      .evaluate(cutDeep(raw) as SourceRecord)
      .then(keyText, () => null)
      .then((key) => failure(m, raw, key, err.code, message));
  }
}

/**
 * Maps one record: synchronously when every expression it needs is a direct read, else a
 * promise (JSONata).
 */
export function mapRecord(m: CompiledMapping, raw: SourceRecord): MapOutcome | Promise<MapOutcome> {
  const payloadHash = hashOf(m, raw);
  if (typeof payloadHash !== 'string') return payloadHash; // nested too deep
  const slots = slotsOf(m);
  const values = new Array<unknown>(slots.length);
  let pending: number[] | undefined;
  for (let i = 0; i < slots.length; i++) {
    const expr = slots[i]!.expr;
    if (!expr) continue;
    const value = expr.get ? expr.get(raw) : NEEDS_JSONATA;
    if (value === NEEDS_JSONATA) (pending ??= []).push(i);
    else values[i] = value;
  }
  return pending ? evaluateRest(m, raw, payloadHash, values, pending) : finish(m, raw, payloadHash, values);
}

/**
 * How long mapping runs before letting the event loop turn. A sync maps the next batch
 * while the current one is in PostgreSQL (run-sync.ts): in slices, that mapping fills the
 * time spent waiting for query results instead of holding those results up for a whole
 * batch's worth of CPU (~150 ms for 5,000 records).
 */
const SLICE_MS = 3;

/**
 * The map stage over one batch of `source`.`stream` records, in slices of {@link SLICE_MS}.
 * @throws Error when the mapping is for another stream (a wiring bug, not a data problem)
 */
export async function mapBatch(compiled: CompiledMapping, source: string, stream: string, records: readonly SourceRecord[]): Promise<MapResult> {
  if (compiled.source !== source || compiled.stream !== stream) {
    throw new Error(`mapping ${compiled.file} maps ${compiled.source}.${compiled.stream}, not ${source}.${stream}`);
  }
  const result: MapResult = { records: [], failures: [] };
  let sliceEnd = performance.now() + SLICE_MS;
  let evaluated = false;
  for (let i = 0; i < records.length; i++) {
    // Every 64 direct reads, or after any record JSONata evaluated (one may take up to its time limit).
    if ((evaluated || (i & 63) === 63) && performance.now() > sliceEnd) {
      await setImmediate();
      sliceEnd = performance.now() + SLICE_MS;
    }
    const raw = records[i]!;
    let outcome = mapRecord(compiled, raw);
    evaluated = outcome instanceof Promise;
    if (outcome instanceof Promise) outcome = await outcome;
    if (outcome.ok) result.records.push(outcome.record);
    else result.failures.push(outcome.failure);
  }
  return result;
}
