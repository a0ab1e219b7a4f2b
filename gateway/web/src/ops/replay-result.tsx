import type { ReplaySummary } from './api-types';
import { count } from './format';

/** `Replay of dead letter 12: 1 selected, 1 loaded, 0 failed again, 0 superseded (run #40).` */
export function ReplayResult({ summary: s, what }: { summary: ReplaySummary; what: string }) {
  const runs = s.streams.map((st) => `#${st.runId}`);
  return (
    <>
      Replay of {what}: {count(s.selected)} selected, {count(s.loaded)} loaded, {count(s.failedAgain)} failed again, {count(s.superseded)} superseded
      {runs.length > 0 && ` (run ${runs.join(', ')})`}.
      {s.selected === 0 && ' Nothing was waiting to be replayed.'}
    </>
  );
}
