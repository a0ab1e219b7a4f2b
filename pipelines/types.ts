/**
 * What flows between the pipeline stages: `map` turns source records into
 * {@link MappedRecord}s (pure), `resolve` attaches each to a customer, `load` writes them.
 */
import type { JsonValue, SourceRecord } from '../connectors/types.js';
import type { TargetName } from './model.js';

/** One identity key a record contributes, already normalized (email lower-cased, phone E.164). */
export interface IdentityKey {
  kind: string;
  value: string;
}

/** Where a mapped field came from, for lineage ("source, key, mapping file:line, synced_at"). */
export interface FieldOrigin {
  /** Mapping file as shown to users (relative path) and the line of the field's definition. */
  file: string;
  line: number;
}

export interface MappedRecord {
  source: string;
  stream: string;
  target: TargetName;
  /** The record's key in its source stream (lineage, idempotency). */
  sourceKey: string;
  /** Unified field values, typed per pipelines/model.ts (datetimes as ISO strings, decimals as strings). */
  fields: Record<string, JsonValue>;
  /** Identity keys after normalization; blocked or empty values are already dropped. */
  identities: IdentityKey[];
  /** SHA-256 of the raw source record (canonical JSON): unchanged records are skipped on load. */
  payloadHash: string;
  /** The source record as read (kept for dead letters and replay). */
  raw: SourceRecord;
  /** Per field, where its mapping is defined. */
  origins: Record<string, FieldOrigin>;
  /** The mapping's version label (file + content hash), stored with dead letters. */
  mappingVersion: string;
}

/** A record that failed a stage; the batch goes on without it. */
export interface RecordFailure {
  source: string;
  stream: string;
  sourceKey: string | null;
  stage: 'extract' | 'map' | 'resolve' | 'load';
  code: string;
  message: string;
  raw: SourceRecord;
  mappingVersion?: string;
}

export interface MapResult {
  records: MappedRecord[];
  failures: RecordFailure[];
}
