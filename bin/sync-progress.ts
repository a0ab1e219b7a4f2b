/**
 * What `junction sync` shows while a sync runs and when it ends, whether it runs in this
 * process (`--inline`) or on a worker: a cli-progress bar on a terminal (records, rate, and
 * an ETA when the total is known), notes about waiting and retries, and the summary line.
 */
import cliProgress from 'cli-progress';
import type { SyncProgress, SyncSummary } from '../pipelines/run-sync.js';

export interface ProgressView {
  update(progress: SyncProgress & { total?: number }): void;
  /** A line above the bar (or on stderr without one). */
  note(line: string): void;
  stop(): void;
}

/** A progress bar on stderr when it is a terminal and `enabled`; otherwise notes only. */
export function progressView(label: string, enabled: boolean): ProgressView {
  const tty = enabled && Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  let firstAt: number | undefined;
  let firstRead = 0;
  return {
    update(p) {
      if (!tty) return;
      const now = Date.now();
      if (firstAt === undefined) {
        firstAt = now;
        firstRead = p.read;
      }
      // Rate over what this view saw: a resumed job's earlier attempts do not inflate it.
      const rate = Math.round((p.read - firstRead) / Math.max(0.001, (now - firstAt) / 1000));
      const payload = { loaded: p.loaded, unchanged: p.unchanged, failed: p.failed, rate };
      if (!bar) {
        const known = p.total !== undefined;
        const format = known
          ? `${label} |{bar}| {percentage}% | {value}/{total} read, {loaded} loaded, {failed} failed | {rate} rec/s | ETA {eta_formatted}`
          : `${label} | {value} read, {loaded} loaded, {unchanged} unchanged, {failed} failed | {rate} rec/s | {duration_formatted}`;
        bar = new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true, etaBuffer: 20 }, cliProgress.Presets.shades_classic);
        bar.start(p.total ?? p.read, p.read, payload);
      }
      bar.setTotal(p.total ?? Math.max(p.read, 1));
      bar.update(p.read, payload);
    },
    note(line) {
      if (bar) process.stderr.write('\n');
      process.stderr.write(`${line}\n`);
    },
    stop() {
      bar?.stop();
    },
  };
}

/** The one-line summary of a finished sync. */
export function summaryLine(ref: string, s: SyncSummary, jobId?: string): string {
  const where = jobId === undefined ? '' : `job ${jobId}, `;
  return (
    `${ref}: ${where}run ${s.runId} (${s.mode}) read ${s.read} records in ${s.batches} batches, ${(s.durationMs / 1000).toFixed(1)} s: ` +
    `${s.loaded} loaded, ${s.unchanged} unchanged, ${s.failed} dead-lettered; ` +
    `${s.customersCreated} customers created, ${s.merged} merged; checkpoint ${JSON.stringify(s.checkpoint)}`
  );
}
