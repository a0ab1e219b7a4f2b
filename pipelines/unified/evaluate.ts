/**
 * `junction customers evaluate --truth FILE`: pairwise precision and recall of the unified
 * view against a ground truth (`source,stream,source_key,person_id`, as the demo estate's
 * generator writes it), over the source records present in both.
 *
 * Two records form a *predicted pair* when they belong to one customer, a *true pair* when
 * they belong to one person. With n(c,p) records of customer c and person p:
 *   correct pairs   = Σ n(c,p)·(n(c,p)−1)/2
 *   predicted pairs = Σ_c n(c)·(n(c)−1)/2,   true pairs = Σ_p n(p)·(n(p)−1)/2
 *   precision = correct / predicted,          recall = correct / true
 * counted per cluster, never by listing pairs, so 200k records take a moment. With no
 * predicted (true) pairs at all, precision (recall) is 1: nothing claimed, nothing wrong.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import type pg from 'pg';
import { JunctionError } from '../../config/errors.js';

export interface Evaluation {
  /** Records found in both the unified view and the truth file: the population scored. */
  records: number;
  onlyInView: number;
  onlyInTruth: number;
  customers: number;
  persons: number;
  pairs: { correct: number; predicted: number; true: number };
  precision: number;
  recall: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;
const TRUTH_COLUMNS = ['source', 'stream', 'source_key', 'person_id'];

/** Reads a truth file into `source␟stream␟key → person` (␟: the unit separator, U+001F). */
export function readTruth(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new JunctionError('CFG_FILE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, { cause: err, where: { file } });
  }
  let rows: string[][];
  try {
    // bom: a spreadsheet's "CSV UTF-8" export starts with U+FEFF, which would be part of `source`.
    rows = parse(text, { bom: true, skip_empty_lines: true }) as string[][];
  } catch (err) {
    throw new JunctionError('ID_TRUTH_INVALID', `${file} is not valid CSV: ${(err as Error).message}`, { cause: err, where: { file } });
  }
  const header = rows[0] ?? [];
  if (TRUTH_COLUMNS.some((c, i) => header[i] !== c)) {
    throw new JunctionError('ID_TRUTH_INVALID', `expected the header ${TRUTH_COLUMNS.join(',')}, found ${header.join(',') || 'nothing'}`, { where: { file, line: 1 } });
  }
  const truth = new Map<string, string>();
  for (let i = 1; i < rows.length; i++) {
    const [source, stream, key, person] = rows[i]!;
    if (!source || !stream || key === undefined || !person) {
      throw new JunctionError('ID_TRUTH_INVALID', `row ${i + 1} has fewer than 4 values`, { where: { file, line: i + 1 } });
    }
    truth.set(`${source}\u001f${stream}\u001f${key}`, person);
  }
  return truth;
}

/** Scores the unified view in `db` against `truth`. */
export async function evaluate(db: pg.ClientBase | pg.Pool, truth: ReadonlyMap<string, string>): Promise<Evaluation> {
  const { rows } = await db.query<{ k: string; customer_id: string }>(
    `SELECT source || chr(31) || stream || chr(31) || source_key AS k, customer_id FROM unified.source_record`,
  );
  const cells = new Map<string, number>(); // customer \0 person → records
  const perCustomer = new Map<string, number>();
  const perPerson = new Map<string, number>();
  let records = 0;
  for (const r of rows) {
    const person = truth.get(r.k);
    if (person === undefined) continue;
    records++;
    const cell = `${r.customer_id}\u0000${person}`;
    cells.set(cell, (cells.get(cell) ?? 0) + 1);
    perCustomer.set(r.customer_id, (perCustomer.get(r.customer_id) ?? 0) + 1);
    perPerson.set(person, (perPerson.get(person) ?? 0) + 1);
  }
  let correct = 0;
  for (const n of cells.values()) correct += pairs(n);
  let predicted = 0;
  for (const n of perCustomer.values()) predicted += pairs(n);
  let truePairs = 0;
  for (const n of perPerson.values()) truePairs += pairs(n);
  return {
    records,
    onlyInView: rows.length - records,
    onlyInTruth: truth.size - records,
    customers: perCustomer.size,
    persons: perPerson.size,
    pairs: { correct, predicted, true: truePairs },
    precision: predicted === 0 ? 1 : correct / predicted,
    recall: truePairs === 0 ? 1 : correct / truePairs,
  };
}
