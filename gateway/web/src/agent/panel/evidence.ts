/**
 * The merge evidence of the identities part in plain words, as `junction customers
 * explain` prints it (bin/commands/customers.ts): which shared key joined each record, the
 * keys records share, and the merge log.
 */
import { formatDateTime, keyName, recordName } from './format.js';
import type { EvidenceStep, IdentitiesData, MergeEntry } from './types.js';

/** "by email ann@example.com", or the unmerge pin that keeps records together. */
export function byKey(key: string): string {
  return key.startsWith('pin:') ? `kept together by an unmerge (customer #${key.slice(4)})` : `by ${keyName(key)}`;
}

/**
 * How the records joined the customer, one sentence per key and record it was shared with:
 * "crm_oracle.customers C1, orders_soap.orders O-9 joined by email ann@example.com (shared
 * with shop_pg.accounts A1)". The first record (no step) comes first.
 */
export function chainSentences(chain: readonly { record: string; via: EvidenceStep | null }[]): string[] {
  const first = chain.filter((c) => c.via === null).map((c) => `${recordName(c.record)}: the first record`);
  const groups = new Map<string, { via: EvidenceStep; records: string[] }>();
  for (const c of chain) {
    if (!c.via) continue;
    const id = `${c.via.key}\u0000${c.via.from}`;
    const g = groups.get(id);
    if (g) g.records.push(c.record);
    else groups.set(id, { via: c.via, records: [c.record] });
  }
  return [...first, ...[...groups.values()].map((g) => `${g.records.map(recordName).join(', ')} joined ${byKey(g.via.key)} (shared with ${recordName(g.via.from)})`)];
}

export function unexplainedSentence(u: { record: string; pinned: boolean }): string {
  return `${recordName(u.record)}: ${u.pinned ? 'kept here by an unmerge' : 'no shared key under the current rules'}`;
}

const STATE_NOTE: Record<string, string> = {
  capped: ' (held by too many people: links nothing)',
  shared: ' (held by records kept apart: links nothing)',
};

export function sharedSentence(s: { key: string; state: string; records: string[] }): string {
  return `${keyName(s.key)}${STATE_NOTE[s.state] ?? ''} is held by ${s.records.map(recordName).join(', ')}`;
}

/** One merge log entry: what happened, and the keys that made it happen. */
export function mergeSentence(m: MergeEntry): string {
  const when = formatDateTime(m.at);
  const e = m.evidence;
  if (m.action === 'merge') {
    const how = e.path.length
      ? e.path.map((s) => `${recordName(s.to)} joined ${recordName(s.from)} ${byKey(s.key)}`).join('; ')
      : e.records.map(recordName).join(', ');
    return `${when}: customer #${m.absorbedId} merged into #${m.customerId}: ${how}`;
  }
  if (m.action === 'split') {
    const capped = e.capped.length ? ` (over the cap: ${e.capped.map(keyName).join(', ')})` : '';
    return `${when}: ${e.records.map(recordName).join(', ')} split from #${m.absorbedId} into #${m.customerId}${capped}`;
  }
  return `${when}: unmerge of ${e.requested ? recordName(e.requested) : 'a record'} from #${m.absorbedId}: ${e.records.map(recordName).join(', ')} moved to #${m.customerId} (pinned)`;
}

/** How many records the evidence covers (for the summary line). */
export function recordCount(d: IdentitiesData): number {
  return (d.chain?.length ?? 0) + (d.unexplained?.length ?? 0);
}
