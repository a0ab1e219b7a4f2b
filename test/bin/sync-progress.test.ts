/**
 * The sync progress bar on a terminal: a percentage and an ETA once the total is known
 * (also when it arrives after the first batch), records and rate only without one.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { progressView } from '../../bin/sync-progress.js';
import type { SyncProgressUpdate } from '../../pipelines/run-sync.js';

/** A terminal that keeps what was drawn on it. */
function terminal(): Writable & { isTTY: boolean; columns: number; text(): string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  // eslint-disable-next-line no-control-regex -- the cursor moves and colours the bar draws
  const text = () => out.replace(/\x1B(\[[0-9;?]*[A-Za-z]|[78])/g, '');
  return Object.assign(stream, { isTTY: true, columns: 200, text });
}

const at = (read: number, total?: number): SyncProgressUpdate => ({
  batches: read / 100, read, loaded: read, unchanged: 0, failed: 0, customersCreated: 0, merged: 0, ...(total === undefined ? {} : { total }),
});

/** Shows `steps` a few ms apart (the ETA needs time between values), then stops the bar. */
async function draw(steps: SyncProgressUpdate[]): Promise<string> {
  const out = terminal();
  const view = progressView('legacy_pg.orders', true, out);
  for (const step of steps) {
    view.update(step);
    await sleep(30);
  }
  view.stop();
  return out.text();
}

describe('sync progress bar', () => {
  it('shows the percentage and an ETA when the total is known', async () => {
    const text = await draw([at(0, 1000), at(100, 1000), at(200, 1000)]);
    expect(text).toMatch(/legacy_pg\.orders \|.*\| 20% \| 200\/1000 read, 200 loaded, 0 failed \| \d+ rec\/s \| ETA \d+s/);
  });

  it('gains them when the total arrives after the first batch', async () => {
    const text = await draw([at(100), at(200, 1000), at(500, 1000)]);
    expect(text).toMatch(/100 read, 100 loaded, 0 unchanged, 0 failed/);
    expect(text).toMatch(/\| 50% \| 500\/1000 read.*ETA \d+s/);
  });

  it('ends at 100% with ETA 0s when the first progress seen is the last batch', async () => {
    const text = await draw([at(200, 200)]);
    const etas = text.match(/ETA \S+/g) ?? [];
    expect(etas.length).toBeGreaterThan(0);
    // Not "ETA LLs": cli-progress's "NULL" (0 / 0) cut to two characters.
    for (const eta of etas) expect(eta).toBe('ETA 0s');
  });

  it('shows records, rate and elapsed time, and no ETA, without a total', async () => {
    const text = await draw([at(100), at(200)]);
    expect(text).toMatch(/legacy_pg\.orders \| 200 read, 200 loaded, 0 unchanged, 0 failed \| \d+ rec\/s \| \d+s/);
    expect(text).not.toMatch(/ETA|%/);
  });

  it('draws nothing when the stream is not a terminal', async () => {
    const out = terminal();
    out.isTTY = false;
    const view = progressView('x.y', true, out);
    view.update(at(100, 1000));
    view.stop();
    expect(out.text()).toBe('');
  });
});
