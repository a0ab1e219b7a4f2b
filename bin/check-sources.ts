/** The connectivity part of `junction check`: every enabled source's `check()`, as a table. */
import type { ResolvedConfig } from '../config/load.js';
import { isJunctionError } from '../config/errors.js';
import { redact } from '../config/redact.js';
import { openSource } from './sources.js';

export interface SourceCheckRow {
  source: string;
  type: string;
  status: 'ok' | 'failed' | 'disabled';
  latencyMs: number | null;
  detail: string;
  code?: string;
}

/** Runs `check()` on every source at once (disabled ones are listed, not contacted). */
export async function checkSources(config: ResolvedConfig): Promise<SourceCheckRow[]> {
  return Promise.all(
    Object.entries(config.sources).map(async ([source, sc]): Promise<SourceCheckRow> => {
      const type = sc.type;
      if (sc.enabled === false) return { source, type, status: 'disabled', latencyMs: null, detail: 'enabled: false' };
      try {
        const connector = openSource(config, source);
        try {
          const r = await connector.check();
          return { source, type, status: r.ok ? 'ok' : 'failed', latencyMs: r.latencyMs, detail: redact(r.detail, config), ...(r.code ? { code: r.code } : {}) };
        } finally {
          await connector.close();
        }
      } catch (err) {
        const code = isJunctionError(err) ? err.code : undefined;
        return { source, type, status: 'failed', latencyMs: null, detail: redact((err as Error).message, config), ...(code ? { code } : {}) };
      }
    }),
  );
}

export function formatSourceChecks(rows: SourceCheckRow[]): string {
  const table = rows.map((r) => [r.source, r.type, r.status, r.latencyMs === null ? '-' : `${r.latencyMs}ms`, r.code ? `${r.detail} [${r.code}]` : r.detail]);
  const head = ['SOURCE', 'TYPE', 'STATUS', 'LATENCY', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((l) => l[i]!.length)));
  return [head, ...table].map((cols) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
