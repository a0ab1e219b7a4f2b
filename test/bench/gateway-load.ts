/**
 * The load generator both contenders of `bench gateway` get: conversations of a visitor
 * socket and an agent socket, messages offered at a fixed rate (round-robin over the
 * conversations, alternating direction), latency measured from send to receipt at the peer
 * (the send time travels in the text; one process, one clock). A transport (the gateway or
 * the bare relay) only says how a side sends a text and calls `received` with what arrives.
 */
import { performance } from 'node:perf_hooks';
import { p50p99 } from './latency.js';

/** One conversation as the generator drives it. */
export interface LoadConversation {
  fromVisitor(text: string): void;
  fromAgent(text: string): void;
}

export interface LoadTarget {
  conversations: LoadConversation[];
  /** Set by the generator: the transport calls it with every text a peer receives. */
  received: (text: string) => void;
}

export interface StepResult {
  offered: number;
  /** Messages received per second over the step (received by the end of the drain). */
  delivered: number;
  sent: number;
  receivedCount: number;
  p50: number;
  p99: number;
  /** The generator sent ≥ 95% of what was offered, ≥ 95% of it arrived, and p99 < the latency bound. */
  sustained: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Offers `rate` msg/s for `seconds`, then waits (≤ drainMs) for what is in flight. */
export async function runStep(target: LoadTarget, rate: number, seconds: number, p99BoundMs = 100, drainMs = 3000): Promise<StepResult> {
  const latencies: number[] = [];
  let received = 0;
  target.received = (text) => {
    const sentAt = Number(text.slice(0, text.indexOf(' ')));
    if (!Number.isFinite(sentAt)) return;
    latencies.push(performance.now() - sentAt);
    received++;
  };
  const convs = target.conversations;
  let sent = 0;
  let next = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    // Catch up to the schedule in bursts of at most 10 ms' worth, so a stall is not hidden.
    const due = Math.min(Math.floor(((now - start) / 1000) * rate) - sent, Math.ceil(rate / 100));
    for (let i = 0; i < due; i++) {
      const conv = convs[next % convs.length]!;
      const text = `${performance.now().toFixed(3)} m${sent}`;
      if (Math.floor(next / convs.length) % 2 === 0) conv.fromVisitor(text);
      else conv.fromAgent(text);
      next++;
      sent++;
    }
    await sleep(2);
  }
  const drainEnd = performance.now() + drainMs;
  while (received < sent && performance.now() < drainEnd) await sleep(20);
  const { p50, p99 } = p50p99(latencies);
  const delivered = Math.round(received / seconds);
  return { offered: rate, delivered, sent, receivedCount: received, p50, p99, sustained: sent >= rate * seconds * 0.95 && received >= sent * 0.95 && p99 < p99BoundMs };
}

/** The generator sent ≥ 95% of what was offered and ≥ 95% of it arrived (latency aside). */
export function keptUp(r: StepResult, seconds: number): boolean {
  return r.sent >= r.offered * seconds * 0.95 && r.receivedCount >= r.sent * 0.95;
}

/**
 * Steps the offered rate up (×`factor`) until delivery falls behind twice in a row or p99
 * passes 1 s, then tries two rates between the best sustained step and the one above it.
 * `best`: the best sustained step (p99 under the bound); `maxKeptUp`: the most delivered
 * while delivery kept up, whatever the latency.
 */
export async function findMaxRate(target: LoadTarget, o: { seconds: number; start?: number; factor?: number; limit?: number; log: (line: string) => void; label: string }): Promise<{ best: StepResult | null; maxKeptUp: number; steps: StepResult[] }> {
  const steps: StepResult[] = [];
  let rate = o.start ?? 100;
  let behind = 0;
  let best: StepResult | null = null;
  let maxKeptUp = 0;
  const step = async (offered: number, note = '') => {
    const r = await runStep(target, offered, o.seconds);
    steps.push(r);
    o.log(`${o.label}: offered ${r.offered} msg/s${note} → delivered ${r.delivered} msg/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.sustained ? '' : ' (not sustained)'}`);
    return r;
  };
  while (rate <= (o.limit ?? 200_000) && behind < 2) {
    const r = await step(rate);
    if (r.sustained && (!best || r.delivered > best.delivered)) best = r;
    if (keptUp(r, o.seconds)) {
      maxKeptUp = Math.max(maxKeptUp, r.delivered);
      behind = 0;
    } else {
      behind++;
    }
    if (r.p99 > 1000) break;
    rate = Math.round(rate * (o.factor ?? 1.5));
    await sleep(1000);
  }
  // The steps are coarse (×1.5): between the best sustained one and the step above it, try
  // rates in between (×1.15, then ×1.31 if that held), after a pause in which the backlog of
  // the overloaded steps drains.
  const top = best;
  const stepAbove = top ? steps.find((s) => s.offered > top.offered) : undefined;
  if (top && stepAbove && !stepAbove.sustained) {
    const factor = o.factor ?? 1.5;
    const base = top.offered;
    for (const f of [Math.cbrt(factor), Math.cbrt(factor) ** 2]) {
      await sleep(5000);
      const r = await step(Math.round(base * f), ' (between steps)');
      if (keptUp(r, o.seconds)) maxKeptUp = Math.max(maxKeptUp, r.delivered);
      if (!r.sustained) break;
      if (r.delivered > (best?.delivered ?? 0)) best = r;
    }
  }
  return { best, maxKeptUp, steps };
}
