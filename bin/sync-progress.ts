/**
 * What `junction sync` shows while a sync runs and when it ends, whether it runs in this
 * process (`--inline`) or on a worker: a cli-progress bar on a terminal (records, rate, and
 * a percentage and ETA once the total is known), notes about waiting and retries, and the
 * summary line.
 */
import cliProgress from 'cli-progress';
import type { SyncProgressUpdate, SyncSummary } from '../pipelines/run-sync.js';

export interface ProgressView {
  update(progress: SyncProgressUpdate): void;
  /** A line above the bar (or on stderr without one). */
  note(line: string): void;
  stop(): void;
}

/** A progress bar on `stream` (stderr) when it is a terminal and `enabled`; otherwise notes only. */
export function progressView(label: string, enabled: boolean, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): ProgressView {
  const tty = enabled && Boolean(stream.isTTY);
  const known = `${label} |{bar}| {percentage}% | {value}/{total} read, {loaded} loaded, {failed} failed | {rate} rec/s | ETA {eta_formatted}`;
  const unknown = `${label} | {value} read, {loaded} loaded, {unchanged} unchanged, {failed} failed | {rate} rec/s | {duration_formatted}`;
  // Chosen at each redraw: the source's count usually answers after the first batch, and
  // the bar then gains its percentage and ETA.
  // At the total, cli-progress divides 0 by 0 when nothing moved since the last redraw (a job
  // seen first at its last batch) and prints "ETA LLs" (its "NULL", cut): nothing is left, so 0.
  const format: cliProgress.GenericFormatter = (options, params, payload: { known?: boolean }) =>
    cliProgress.Format.Formatter({ ...options, format: payload.known ? known : unknown }, params.value >= params.total ? { ...params, eta: 0 } : params, payload);
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
      const payload = { loaded: p.loaded, unchanged: p.unchanged, failed: p.failed, rate, known: p.total !== undefined };
      if (!bar) {
        bar = new cliProgress.SingleBar({ format, stream, hideCursor: true, etaBuffer: 20 }, cliProgress.Presets.shades_classic);
        bar.start(p.total ?? p.read, p.read, payload);
      }
      bar.setTotal(p.total ?? Math.max(p.read, 1));
      bar.update(p.read, payload);
    },
    note(line) {
      if (bar) stream.write('\n');
      stream.write(`${line}\n`);
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
