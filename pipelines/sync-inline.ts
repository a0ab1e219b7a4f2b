/**
 * One sync of a source stream in this process, as `junction sync --inline` runs it: the
 * same batch runner the BullMQ workers use (pipelines/run-sync.ts), without the queue, the
 * stream lock or the circuit. Kept as the stable entry point of in-process callers.
 */
import { runSync, type RunSyncOptions, type SyncMode, type SyncProgress, type SyncSummary } from './run-sync.js';

export type { SyncMode, SyncProgress, SyncSummary };

export type SyncOptions = RunSyncOptions;

/** Runs one sync to the end of the stream (or until aborted) and returns its counts. */
export function syncInline(options: SyncOptions): Promise<SyncSummary> {
  return runSync(options);
}
