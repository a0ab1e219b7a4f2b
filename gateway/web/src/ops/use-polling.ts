/**
 * Runs `tick` now and then every `intervalMs` after the previous tick settled (never two at
 * once), pauses while the tab is hidden and ticks at once when it shows again. A new `key`
 * (a filter, a refresh) starts over with an immediate tick; the previous tick's signal is
 * aborted so a late answer for an old filter is dropped.
 */
import { useEffect, useEffectEvent } from 'react';

export function usePolling(tick: (signal: AbortSignal) => Promise<void>, intervalMs: number, key: string): void {
  const onTick = useEffectEvent(tick);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;

    const stopTimer = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const run = async () => {
      stopTimer();
      if (inFlight || controller.signal.aborted || document.hidden) return;
      inFlight = true;
      try {
        await onTick(controller.signal);
      } catch {
        // The tick reports its own errors; polling goes on (that is the retry).
      } finally {
        inFlight = false;
      }
      if (!controller.signal.aborted && !document.hidden) timer = setTimeout(run, intervalMs);
    };
    const onVisibility = () => {
      if (document.hidden) stopTimer();
      else void run();
    };

    void run();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      controller.abort();
      stopTimer();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [intervalMs, key]);
}
