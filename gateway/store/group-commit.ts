/**
 * Group commit: requests that arrive while a lane's previous transaction is in flight, or
 * within `windowMs` of the first one, are written together by one `flush`. Each lane runs
 * one flush at a time, so requests of one key (a conversation) keep their arrival order;
 * lanes let several transactions run at once for different keys.
 */

export interface GroupCommitOptions<Req, Res> {
  /** Writes a batch; per request a result or an Error failing that request alone. Throwing fails the whole batch. */
  flush: (batch: Req[]) => Promise<(Res | Error)[]>;
  /** Which lane a request goes to; requests that must stay ordered must share one. */
  laneKey: (req: Req) => number;
  /** @defaultValue 2 */
  windowMs?: number;
  /** @defaultValue 500 */
  maxBatch?: number;
  /** @defaultValue 2 */
  lanes?: number;
}

interface Pending<Req, Res> {
  req: Req;
  resolve: (res: Res) => void;
  reject: (err: unknown) => void;
}

interface Lane<Req, Res> {
  queue: Pending<Req, Res>[];
  inFlight: Promise<void> | null;
  /** The window's timer; an Immediate when the window is 0 (what this turn of the event loop brings). */
  timer: NodeJS.Timeout | NodeJS.Immediate | null;
}

export class GroupCommit<Req, Res> {
  private readonly lanes: Lane<Req, Res>[];
  private readonly windowMs: number;
  private readonly maxBatch: number;
  /** Batches and requests flushed so far (tests check batching by these, never by time). */
  readonly stats = { batches: 0, requests: 0, largestBatch: 0 };

  constructor(private readonly options: GroupCommitOptions<Req, Res>) {
    const lanes = options.lanes ?? 2;
    this.windowMs = options.windowMs ?? 2;
    this.maxBatch = options.maxBatch ?? 500;
    for (const [name, v] of Object.entries({ lanes, windowMs: this.windowMs, maxBatch: this.maxBatch })) {
      if (!Number.isInteger(v) || v < (name === 'windowMs' ? 0 : 1)) throw new TypeError(`GroupCommit option ${name} must be an integer ≥ ${name === 'windowMs' ? 0 : 1}, got ${v}`);
    }
    this.lanes = Array.from({ length: lanes }, () => ({ queue: [], inFlight: null, timer: null }));
  }

  /** Queues a request; resolves once its batch committed. */
  submit(req: Req): Promise<Res> {
    const lane = this.lanes[Math.abs(this.options.laneKey(req)) % this.lanes.length]!;
    return new Promise<Res>((resolve, reject) => {
      lane.queue.push({ req, resolve, reject });
      if (lane.inFlight) return; // picked up when the running flush ends
      if (lane.queue.length >= this.maxBatch) this.start(lane);
      else lane.timer ??= this.windowMs === 0 ? setImmediate(() => this.start(lane)) : setTimeout(() => this.start(lane), this.windowMs);
    });
  }

  private start(lane: Lane<Req, Res>): void {
    if (lane.timer) {
      if ('refresh' in lane.timer) clearTimeout(lane.timer);
      else clearImmediate(lane.timer);
    }
    lane.timer = null;
    if (lane.inFlight || lane.queue.length === 0) return;
    const batch = lane.queue.splice(0, this.maxBatch);
    lane.inFlight = this.run(batch).finally(() => {
      lane.inFlight = null;
      // What queued meanwhile has waited a whole transaction already: no extra window.
      if (lane.queue.length > 0) this.start(lane);
    });
  }

  private async run(batch: Pending<Req, Res>[]): Promise<void> {
    this.stats.batches++;
    this.stats.requests += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    try {
      const results = await this.options.flush(batch.map((p) => p.req));
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else if (r === undefined) p.reject(new Error(`flush returned ${results.length} results for ${batch.length} requests`));
        else p.resolve(r);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** Resolves when every request queued so far has been flushed (shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      for (const lane of this.lanes) if (!lane.inFlight) this.start(lane);
      const running = this.lanes.map((l) => l.inFlight).filter((p): p is Promise<void> => p !== null);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }
}
