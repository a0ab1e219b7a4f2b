/**
 * The part of the unified view a batch can affect, read and locked in one deadlock-free
 * order: first advisory locks on the stripes of the batch's keys and record names (sorted),
 * then the rows of every customer those keys reach (sorted by id, `FOR UPDATE`), re-read
 * under the locks until the set is closed. Nothing else is ever locked before a stripe, so
 * waits cannot form a cycle; and two workers that see the same key serialize on its stripe,
 * so the second one finds the customer the first created instead of creating another.
 */
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';
import type { JsonValue } from '../../connectors/types.js';
import type { TargetName } from '../model.js';
import type { FieldOrigin } from '../types.js';
import { lockStripe } from './keys.js';
import type { KeyState } from './partition.js';

/** Namespace of resolution's advisory locks (two-int form, apart from single-bigint users). */
const LOCK_CLASS = 4_2001;

/** A record as stored in unified.source_record. */
export interface StoredRecord {
  ref: string;
  source: string;
  stream: string;
  sourceKey: string;
  target: TargetName;
  customerId: number;
  keys: string[];
  pinned: boolean;
  /** Not read with the region (see resolve's loadFields). */
  fields: Record<string, JsonValue> | null;
  origins: Record<string, FieldOrigin> | null;
  syncedAt: string;
}

export interface IdentityRow {
  key: string;
  customerId: number;
  state: KeyState;
}

/** A customer the batch reaches, locked. */
export interface LockedCustomer {
  id: number;
  /** Named anchors among its records (see partition); 0 or 1 lets resolution treat it as one node. */
  anchors: number;
  /** The uncapped kinds it has ids of. */
  kinds: string[];
  /** Has records placed by an unmerge. */
  pinned: boolean;
  /** The batch's keys it holds (link or shared). */
  keys: string[];
}

export interface Region {
  /** Locked customers, by id. */
  customers: Map<number, LockedCustomer>;
  /** Batch keys that are capped (unified.identity_capped). */
  capped: Set<string>;
  /**
   * Customers holding a `shared` key of a pinned one: whether that key links them again
   * depends on every record holding it, so they are read record by record.
   */
  neighbours: Set<number>;
}

type Db = pg.ClientBase;

/** Takes the stripes of `names` (keys and record refs) in ascending order. */
export async function lockStripes(db: Db, names: Iterable<string>, stripes: number): Promise<void> {
  const set = new Set<number>();
  for (const n of names) set.add(lockStripe(n, stripes));
  if (set.size === 0) return;
  const sorted = [...set].sort((a, b) => a - b);
  // unnest yields the array in order and the aggregate consumes rows as scanned: ascending.
  await db.query('SELECT count(pg_advisory_xact_lock($1::int, s)) FROM unnest($2::int[]) AS s', [LOCK_CLASS, sorted]);
}

export interface StoredRow {
  customerId: number;
  payloadHash: string;
  /** The mapping version its stored fields came from. */
  mappingVersion: string;
  pinned: boolean;
  keys: string[];
  /** Version (xmin) of its customer's row when read: see {@link lockRegion}. */
  customerVersion: string;
}

/** Stored rows of the batch's records, by ref. */
export async function storedByRef(db: Db, refs: readonly { source: string; stream: string; sourceKey: string }[]): Promise<Map<string, StoredRow>> {
  const out = new Map<string, StoredRow>();
  if (refs.length === 0) return out;
  const { rows } = await db.query<{ ref: string; customer_id: string; payload_hash: string; mapping_version: string; pinned: boolean; identity_keys: string[]; version: string }>(
    `SELECT sr.source || '/' || sr.stream || '/' || sr.source_key AS ref, sr.customer_id, sr.payload_hash, sr.mapping_version, sr.pinned, sr.identity_keys,
            c.xmin::text AS version
       FROM ROWS FROM (jsonb_array_elements_text($1::jsonb), jsonb_array_elements_text($2::jsonb), jsonb_array_elements_text($3::jsonb))
            AS k(source, stream, source_key)
       JOIN unified.source_record sr USING (source, stream, source_key)
       JOIN unified.customer c ON c.id = sr.customer_id`,
    [JSON.stringify(refs.map((r) => r.source)), JSON.stringify(refs.map((r) => r.stream)), JSON.stringify(refs.map((r) => r.sourceKey))],
  );
  for (const r of rows) {
    out.set(r.ref, {
      customerId: Number(r.customer_id), payloadHash: r.payload_hash, mappingVersion: r.mapping_version, pinned: r.pinned, keys: r.identity_keys, customerVersion: r.version,
    });
  }
  return out;
}

interface Lookup {
  /** The batch's keys each customer holds (link or shared). */
  holders: Map<number, string[]>;
  capped: Set<string>;
  /** Version (xmin) of each holder's row, read in the same snapshot as the keys. */
  versions: Map<number, string>;
}

/**
 * The keys of a JSON array parameter (`$1`, `["phone:+86…", …]`) as rows `(key, kind, value)`:
 * `WITH k AS (${KEY_ROWS})` joins them with identity tables by their primary keys.
 */
export const KEY_ROWS = `SELECT e AS key, split_part(e, ':', 1) AS kind, substr(e, strpos(e, ':') + 1) AS value FROM jsonb_array_elements_text($1::jsonb) AS e`;

/** Holders of `keys` (capped rows aside) by customer, and which of the keys are capped: one query. */
async function lookupKeys(db: Db, keys: readonly string[]): Promise<Lookup> {
  const holders = new Map<number, string[]>();
  const capped = new Set<string>();
  const versions = new Map<number, string>();
  if (keys.length === 0) return { holders, capped, versions };
  const { rows } = await db.query<{ key: string; customer_id: string | null; version: string | null }>(
    // Nested loops of index probes whatever the statistics say (a function scan is estimated
    // at 100 rows): the right plan for a batch's keys against millions of identities.
    `WITH k AS (${KEY_ROWS})
     SELECT k.key, ci.customer_id, c.xmin::text AS version FROM k
       JOIN unified.customer_identity ci ON ci.kind = k.kind AND ci.value = k.value AND ci.state <> 'capped'
       JOIN unified.customer c ON c.id = ci.customer_id
     UNION ALL
     SELECT k.key, NULL, NULL FROM k JOIN unified.identity_capped c ON c.kind = k.kind AND c.value = k.value`,
    [JSON.stringify(keys)],
  );
  for (const r of rows) {
    if (r.customer_id === null) {
      capped.add(r.key);
      continue;
    }
    const id = Number(r.customer_id);
    versions.set(id, r.version!);
    const list = holders.get(id);
    if (list) list.push(r.key);
    else holders.set(id, [r.key]);
  }
  return { holders, capped, versions };
}

/** Customers that share a `shared` key (kept apart by an unmerge) with `customers`. */
async function sharedNeighbours(db: Db, customers: readonly number[]): Promise<Set<number>> {
  if (customers.length === 0) return new Set();
  const { rows } = await db.query<{ customer_id: string }>(
    `SELECT DISTINCT other.customer_id
       FROM unified.customer_identity mine
       JOIN unified.customer_identity other ON other.kind = mine.kind AND other.value = mine.value AND other.state = 'shared'
      WHERE mine.customer_id = ANY($1::bigint[]) AND mine.state = 'shared'`,
    [customers],
  );
  return new Set(rows.map((r) => Number(r.customer_id)));
}

/** What a batch's records were found to belong to before any lock: re-read when stale. */
export interface Owners {
  ids: number[];
  /** Version (xmin) of each owner's row when read. */
  versions: Map<number, string>;
  /** Reads the batch's stored rows again (under the locks) and returns the new owners. */
  reread(): Promise<{ ids: number[]; versions: Map<number, string> }>;
}

/**
 * Lock rounds before a batch gives up: each round locks what the last one found and rounds
 * end once nothing moves, in two or three unless workers keep merging the same customers.
 * Without a bound, a customer merged away that still held a record sent the batch round for
 * ever, holding its stripes and stopping every worker behind it.
 */
const MAX_LOCK_ROUNDS = 50;

/**
 * Locks the customers a batch reaches: those holding `keys` (the linkable keys of its new and
 * changed records), the owners of its changed records, and the neighbours of pinned ones.
 * The stripes must already be held (see {@link lockStripes}).
 *
 * Keys that reached no customer cannot gain one meanwhile: only a batch holding their
 * stripe could give them a row. Those that did can move or be capped (or a capped one be
 * counted again and link), when another worker merges or splits their customer; such a
 * worker always rewrites that customer's row, so comparing the row versions seen by the
 * lookup with those under the lock tells whether to look again, holders and caps alike.
 */
export async function lockRegion(db: Db, keys: readonly string[], owners: Owners): Promise<Region> {
  const first = await lookupKeys(db, keys);
  let capped = first.capped;
  // What can change under another worker: keys held or capped (a worker capping a value need
  // not hold its stripe: its changed record let go of another key and split the holders).
  const watched = [...new Set([...first.holders.values()].flat()), ...capped];
  let holders = first.holders;
  let ownerIds = owners.ids;
  const seen = new Map([...owners.versions, ...first.versions]);
  let wanted = new Set([...holders.keys(), ...ownerIds]);
  for (let round = 1; ; round++) {
    if (wanted.size === 0) return { customers: new Map(), capped, neighbours: new Set() };
    if (round > MAX_LOCK_ROUNDS) {
      throw new JunctionError(
        'ID_REGION_UNSETTLED',
        `the customers this batch reaches did not settle in ${MAX_LOCK_ROUNDS} lock rounds (${[...wanted].sort((a, b) => a - b).slice(0, 20).join(', ')}): ` +
          'a customer merged away still holds records or identity rows, or other workers keep merging them',
        { retryable: true, details: { customers: [...wanted].sort((a, b) => a - b).slice(0, 100) } },
      );
    }
    await db.query('SAVEPOINT junction_region');
    const ids = [...wanted].sort((a, b) => a - b);
    const { rows } = await db.query<{ id: string; merged_into: string | null; anchors: number; anchor_kinds: string[]; pinned: boolean; version: string }>(
      `SELECT id, merged_into, anchors, anchor_kinds, pinned, xmin::text AS version
         FROM unified.customer WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
    if (rows.some((r) => seen.get(Number(r.id)) !== r.version)) {
      // Changed since the lookup (or first seen now): look again, under the locks.
      ({ holders, capped } = await lookupKeys(db, watched));
      const again = await owners.reread();
      ownerIds = again.ids;
      for (const r of rows) seen.set(Number(r.id), r.version);
    }
    const closure = new Set([...holders.keys(), ...ownerIds]);
    for (const r of rows) if (r.merged_into !== null) closure.add(Number(r.merged_into));
    const neighbours = await sharedNeighbours(db, rows.filter((r) => r.pinned).map((r) => Number(r.id)));
    for (const c of neighbours) closure.add(c);
    const live = new Set(rows.filter((r) => r.merged_into === null).map((r) => Number(r.id)));
    if ([...closure].every((c) => live.has(c))) {
      await db.query('RELEASE SAVEPOINT junction_region');
      const customers = new Map<number, LockedCustomer>();
      for (const r of rows) {
        const id = Number(r.id);
        if (r.merged_into === null && closure.has(id)) customers.set(id, { id, anchors: r.anchors, kinds: r.anchor_kinds, pinned: r.pinned, keys: holders.get(id) ?? [] });
      }
      return { customers, capped, neighbours };
    }
    // Rolling back releases the row locks, so the next round takes them all in order again.
    await db.query('ROLLBACK TO SAVEPOINT junction_region');
    wanted = new Set([...live, ...closure]);
  }
}

/**
 * All records of `customers` with their keys, and the identity rows of those customers.
 * A customer's identity rows are exactly its records' keys (the resolver keeps them so):
 * only the few rows that are not `link` need reading.
 */
export async function loadRecords(db: Db, customers: readonly number[]): Promise<{ records: StoredRecord[]; identities: IdentityRow[] }> {
  if (customers.length === 0) return { records: [], identities: [] };
  // One after another: a transaction's client runs one query at a time anyway.
  const recs = await db.query<{ source: string; stream: string; source_key: string; target: TargetName; customer_id: string; identity_keys: string[]; pinned: boolean; synced_at: Date }>(
    // Fields are read later, only for the customers whose golden record is recomputed.
    `SELECT source, stream, source_key, target, customer_id, identity_keys, pinned, synced_at
       FROM unified.source_record WHERE customer_id = ANY($1::bigint[])`,
    [customers],
  );
  const ids = await db.query<{ key: string; customer_id: string; state: KeyState }>(
    `SELECT kind || ':' || value AS key, customer_id, state FROM unified.customer_identity
      WHERE customer_id = ANY($1::bigint[]) AND state <> 'link'`,
    [customers],
  );
  const notLink = new Map(ids.rows.map((r) => [`${r.key}\u0000${r.customer_id}`, r.state]));
  const identities = new Map<string, IdentityRow>();
  const records = recs.rows.map((r): StoredRecord => {
    const customerId = Number(r.customer_id);
    for (const key of r.identity_keys) {
      const id = `${key}\u0000${customerId}`;
      if (!identities.has(id)) identities.set(id, { key, customerId, state: notLink.get(id) ?? 'link' });
    }
    return {
      ref: `${r.source}/${r.stream}/${r.source_key}`,
      source: r.source,
      stream: r.stream,
      sourceKey: r.source_key,
      target: r.target,
      customerId,
      keys: r.identity_keys,
      pinned: r.pinned,
      fields: null,
      origins: null,
      syncedAt: r.synced_at.toISOString(),
    };
  });
  return { records, identities: [...identities.values()] };
}
