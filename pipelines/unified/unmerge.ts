/**
 * `junction customers unmerge <id> --source-record source/stream/key`: undoes a wrong merge.
 *
 * The record moves to a new customer together with what only it linked: the customer's
 * other records are split by their keys as if the record did not exist; the part holding
 * the records an earlier unmerge pinned here stays, or else the largest part (ties: the
 * part whose first record sorts first), and the rest follows the record.
 * Both customers' records are then *pinned*: a pinned record keeps its customer whatever a
 * later sync brings, and a key held on both sides (the shared family phone) stops linking
 * them (its identity rows become `shared`); a new record holding keys of both joins the
 * one its highest-priority key names. Unpinning is not offered: unmerge is a decision.
 *
 * ClickHouse learns of it as of a sync batch (pipelines/sinks/clickhouse-outbox.ts): the
 * transaction writes an outbox entry naming both customers, which is sent after COMMIT. Its
 * records are not re-read by later syncs (they are unchanged), so nothing else would move them.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import { classifyError } from '../classify-error.js';
import { enqueueRows, sendEntry } from '../sinks/clickhouse-outbox.js';
import type { RowSelection } from '../sinks/clickhouse.js';
import { inTransaction } from '../transaction.js';
import { load } from '../load/load.js';
import { assign } from '../resolve/assign.js';
import { loadRecords, lockRegion, lockStripes } from '../resolve/region.js';
import { partition } from '../resolve/partition.js';
import { desiredIdentities, diffIdentities, feedsGolden, loadFields, newCustomerIds, type RecordData, type Resolution } from '../resolve/plan.js';
import type { ResolveRules } from '../resolve/rules.js';

export interface UnmergeResult {
  /** The customer the record was taken from (it keeps the rest). */
  from: number;
  /** The new customer. */
  to: number;
  /** Records moved to it: the requested one first. */
  moved: string[];
}

/** Runs in the caller's transaction. */
export async function unmerge(tx: pg.ClientBase, customerId: number, ref: string, rules: ResolveRules): Promise<UnmergeResult> {
  const before = await tx.query<{ ref: string; keys: string[] }>(
    `SELECT source || '/' || stream || '/' || source_key AS ref, identity_keys AS keys FROM unified.source_record WHERE customer_id = $1`,
    [customerId],
  );
  if (before.rows.length === 0) throw new JunctionError('ID_NOT_FOUND', `customer ${customerId} has no records (unknown, or merged into another)`);
  // Same lock order as resolution: stripes, then customer rows.
  await lockStripes(tx, before.rows.flatMap((r) => [r.ref, ...r.keys]), rules.lockStripes);
  const locked = await lockRegion(tx, [...new Set(before.rows.flatMap((r) => r.keys))], {
    ids: [customerId],
    versions: new Map(),
    reread: async () => ({ ids: [customerId], versions: new Map() }),
  });
  const region = { ...(await loadRecords(tx, [...locked.customers.keys()])), capped: locked.capped };
  const mine = region.records.filter((r) => r.customerId === customerId);
  const target = mine.find((r) => r.ref === ref);
  if (!target) throw new JunctionError('ID_UNMERGE_REFUSED', `${ref} is not a record of customer ${customerId}`, { where: { key: ref } });
  if (mine.length === 1) throw new JunctionError('ID_UNMERGE_REFUSED', `${ref} is the only record of customer ${customerId}: nothing to split`);

  const capped = new Set([...region.capped, ...region.identities.filter((i) => i.state === 'capped').map((i) => i.key)]);
  // Records an earlier unmerge pinned here stay, together (the pin joins them), whatever
  // their keys say now; without pins the largest part stays.
  const rest = partition(
    mine.filter((r) => r !== target).map((r) => ({ ref: r.ref, keys: r.keys, pinnedTo: r.pinned ? customerId : null })),
    rules,
    capped,
  );
  const pinnedHere = new Set(mine.filter((r) => r !== target && r.pinned).map((r) => r.ref));
  const main = rest.clusters.find((c) => c.some((r) => pinnedHere.has(r))) ?? rest.clusters.reduce((best, c) => (c.length > best.length ? c : best));
  const stays = new Set(main);
  const [to] = await newCustomerIds(tx, 1);
  const moved = [ref, ...mine.filter((r) => r !== target && !stays.has(r.ref)).map((r) => r.ref)];
  const movedSet = new Set(moved);

  // The region as it will be: this customer's records pinned on both sides, the rest as stored.
  const future = new Map(region.records.map((r) => [r.ref, movedSet.has(r.ref) ? to! : r.customerId]));
  const pinned = new Map<string, number>();
  for (const r of region.records) if (r.pinned || r.customerId === customerId) pinned.set(r.ref, future.get(r.ref)!);
  const p = partition(
    region.records.map((r) => ({ ref: r.ref, keys: r.keys, pinnedTo: pinned.get(r.ref) ?? null })),
    rules,
    capped,
  );
  const a = assign({ clusters: p.clusters, tree: p.tree, currentCustomer: future, pinnedTo: pinned });
  if (a.ids.some((id) => id === null) || a.events.length > 0) {
    // Every record is pinned or already placed: anything else means the stored view is inconsistent.
    throw new JunctionError('ID_UNMERGE_REFUSED', `customer ${customerId}'s neighbourhood does not re-resolve as stored; run the sync again first`);
  }
  const ids = a.ids as number[];
  const byRef = new Map(region.records.map((r) => [r.ref, r]));
  const records = new Map<string, RecordData>(mine.map((r) => [r.ref, {
    ref: r.ref, source: r.source, stream: r.stream, sourceKey: r.sourceKey, target: r.target, fields: null, origins: null, syncedAt: r.syncedAt,
  }]));
  await loadFields(tx, mine.filter((r) => feedsGolden(r.target)), records);
  const data = (r: (typeof region.records)[number]): RecordData => records.get(r.ref)!;
  const { deletes, upserts } = diffIdentities(
    desiredIdentities(p.clusters, ids, (r) => byRef.get(r)!.keys, p.keyState),
    region.identities,
  );
  const resolution: Resolution = {
    syncedAt: new Date(),
    write: [],
    unchanged: 0,
    moved: moved.map((m) => {
      const r = byRef.get(m)!;
      return { source: r.source, stream: r.stream, sourceKey: r.sourceKey, target: r.target, customerId: to! };
    }),
    newCustomers: [to!],
    dirty: [
      { id: customerId, records: mine.filter((r) => !movedSet.has(r.ref)).map(data) },
      { id: to!, records: moved.map((m) => data(byRef.get(m)!)) },
    ],
    absorbed: [],
    changes: [{ action: 'unmerge', customerId: to!, absorbedId: customerId, evidence: { records: moved, path: [], requested: ref } }],
    identityDeletes: deletes,
    identityUpserts: upserts,
    newlyCapped: [],
    losers: [customerId],
    anchors: new Map(p.clusters.map((_, c) => [ids[c]!, { anchors: p.anchors[c]!, kinds: p.kinds[c]! }] as const)),
  };
  await load(resolution, tx, rules);
  await tx.query('UPDATE unified.source_record SET pinned = true WHERE customer_id = ANY($1::bigint[]) AND NOT pinned', [[customerId, to]]);
  await tx.query('UPDATE unified.customer SET pinned = true WHERE id = ANY($1::bigint[])', [[customerId, to]]);
  return { from: customerId, to: to!, moved };
}

/**
 * What an unmerge sends to ClickHouse: both customers' dimension rows and every order and
 * ticket of each (the moved ones now carry the new customer's id).
 */
export function unmergeSelection(r: Pick<UnmergeResult, 'from' | 'to'>): RowSelection {
  const both = [r.from, r.to];
  return { orders: { source: [], stream: [], key: [] }, tickets: { source: [], stream: [], key: [] }, ownersOf: both, customerIds: both };
}

/** How an unmerge's rows fared on their way to ClickHouse. */
export interface UnmergeAnalytics {
  /** Whether ClickHouse has them now. */
  sent: boolean;
  /** The stream whose next run sends them when they were not (`source.stream`: the requested record's). */
  pending?: string;
  /** Why they were not sent (`SYNC_CLICKHOUSE_FAILED`, …). */
  error?: { code: string; message: string };
}

/**
 * {@link unmerge} in a transaction of its own with its ClickHouse outbox entry, the entry sent
 * after COMMIT. The entry is filed under the requested record's stream, like that stream's
 * batches: when ClickHouse cannot take it now, the stream's next run sends it first (and the
 * ops API counts it in the stream's backlog meanwhile). The unmerge stands either way.
 */
export async function unmergeAndSend(
  pool: pg.Pool,
  clickhouse: ClickHouseClient,
  customerId: number,
  ref: string,
  rules: ResolveRules,
): Promise<UnmergeResult & { analytics: UnmergeAnalytics }> {
  // Source and stream names hold no '/' (STREAM_REF_RE); a source key may.
  const [source = '', stream = ''] = ref.split('/');
  const { result, outboxId, selection } = await inTransaction(pool, async (tx) => {
    const result = await unmerge(tx, customerId, ref, rules);
    const selection = unmergeSelection(result);
    // Never null: both customers have rows to send.
    const outboxId = (await enqueueRows(tx, source, stream, null, selection))!;
    return { result, outboxId, selection };
  });
  try {
    await sendEntry(pool, clickhouse, outboxId, selection);
    return { ...result, analytics: { sent: true } };
  } catch (err) {
    const { code, message } = classifyError(err);
    return { ...result, analytics: { sent: false, pending: `${source}.${stream}`, error: { code, message } } };
  }
}
