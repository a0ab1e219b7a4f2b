/**
 * A page can hold one record twice (a change log, offset paging over rows that moved): the
 * batch keeps only each key's last read, whether it mapped or failed. Without it a newer
 * version that failed the map stage was dead-lettered in the same transaction that loaded
 * the older version, and a replay took the loaded older one for newer than the letter.
 */
import type { SourceRecord } from '../connectors/types.js';
import { recordRef } from './resolve/keys.js';
import type { MapResult } from './types.js';

const refOf = ({ source, stream, sourceKey }: { source: string; stream: string; sourceKey: string | null }) =>
  sourceKey === null ? null : recordRef({ source, stream, sourceKey });

/**
 * `mapped` without the earlier reads of a key read again later in `records`, the page it was
 * mapped from (the map stage hands each outcome the page's own record object). Failures
 * without a key stay.
 */
export function lastReads(records: readonly SourceRecord[], mapped: MapResult): MapResult {
  const position = new Map<SourceRecord, number>();
  records.forEach((raw, i) => position.set(raw, i));
  const last = new Map<string, number>();
  let keyed = 0;
  for (const r of [...mapped.records, ...mapped.failures]) {
    const ref = refOf(r);
    if (ref === null) continue;
    keyed += 1;
    last.set(ref, Math.max(last.get(ref) ?? -1, position.get(r.raw) ?? -1));
  }
  if (last.size === keyed) return mapped;
  const latest = (r: MapResult['records'][number] | MapResult['failures'][number]) => {
    const ref = refOf(r);
    return ref === null || (position.get(r.raw) ?? -1) === last.get(ref);
  };
  return { records: mapped.records.filter(latest), failures: mapped.failures.filter(latest) };
}
