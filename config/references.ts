/**
 * Checks between entries that a schema cannot express: schedule and mapping references to
 * declared sources and streams, unique schedule names, identity kinds. They run on the raw
 * data even when the schema reported errors elsewhere, so one `junction check` shows
 * everything; hence the defensive reads.
 */
import type { JunctionError } from './errors.js';
import { errorAt, type IssueSource } from './issues.js';

type Rec = Record<string, unknown>;

const rec = (v: unknown): Rec | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const names = (v: unknown) => Object.keys(rec(v) ?? {});
const known = (items: string[]) => (items.length ? ` (declared: ${items.join(', ')})` : ' (none declared)');

/**
 * Resolves `source` / `stream` against the config's sources: the error message when one
 * of them is unknown, else the stream's raw config.
 */
function findStream(config: unknown, source: string, stream: string): { error: 'source' | 'stream'; message: string } | { stream: Rec } {
  const sources = rec(rec(config)?.sources);
  const src = rec(sources?.[source]);
  if (!src) return { error: 'source', message: `unknown source ${JSON.stringify(source)}${known(names(sources))}` };
  const found = rec(rec(src.streams)?.[stream]);
  if (!found) {
    return { error: 'stream', message: `source ${source} has no stream ${JSON.stringify(stream)}${known(names(src.streams))}` };
  }
  return { stream: found };
}

/** Schedules: unique names, `sync` names a declared stream, incremental needs a cursor. */
export function checkSchedules(cfg: IssueSource): JunctionError[] {
  const out: JunctionError[] = [];
  const seen = new Set<string>();
  list(rec(cfg.data)?.schedules).forEach((raw, i) => {
    const schedule = rec(raw);
    if (!schedule) return;
    if (typeof schedule.name === 'string') {
      if (seen.has(schedule.name)) {
        out.push(errorAt(cfg, 'CFG_DUPLICATE_NAME', `duplicate schedule name ${JSON.stringify(schedule.name)}`, ['schedules', i, 'name']));
      }
      seen.add(schedule.name);
    }
    if (typeof schedule.sync !== 'string') return;
    const [source = '', stream = '', ...rest] = schedule.sync.split('.');
    if (!source || !stream || rest.length) return; // the schema reports the format
    const found = findStream(cfg.data, source, stream);
    if ('error' in found) {
      out.push(errorAt(cfg, 'CFG_UNKNOWN_REF', found.message, ['schedules', i, 'sync']));
    } else if (schedule.mode !== 'full' && found.stream.cursor === undefined) {
      const at = schedule.mode === undefined ? 'sync' : 'mode';
      out.push(
        errorAt(cfg, 'CFG_INVALID_VALUE', `${schedule.sync} has no cursor, so it can only be synced with mode: full`, ['schedules', i, at]),
      );
    }
  });
  return out;
}

/** A mapping's `source`, `stream` and identity kinds must be declared in the config. */
export function checkMapping(config: unknown, mapping: IssueSource): JunctionError[] {
  const out: JunctionError[] = [];
  const m = rec(mapping.data);
  if (!m) return out;
  if (typeof m.source === 'string' && typeof m.stream === 'string') {
    const found = findStream(config, m.source, m.stream);
    if ('error' in found) out.push(errorAt(mapping, 'MAP_UNKNOWN_SOURCE', found.message, [found.error]));
  }
  const kinds = rec(rec(rec(config)?.identity)?.kinds) ?? {};
  list(m.identity).forEach((raw, i) => {
    const kind = rec(raw)?.kind;
    if (typeof kind === 'string' && !Object.hasOwn(kinds, kind)) {
      out.push(
        errorAt(mapping, 'MAP_UNKNOWN_IDENTITY', `identity kind ${JSON.stringify(kind)} is not declared in identity.kinds${known(Object.keys(kinds))}`, ['identity', i, 'kind']),
      );
    }
  });
  return out;
}
