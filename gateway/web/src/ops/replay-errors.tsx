import type { ReplaySummary } from './api-types';

/** Streams a replay could not run at all (no mapping, a mapping that does not compile). */
export function ReplayErrors({ summary }: { summary: ReplaySummary }) {
  const failed = summary.streams.filter((st) => st.error);
  if (failed.length === 0) return null;
  return (
    <div role="alert" className="alert">
      {failed.map((st) => (
        <p key={`${st.source}.${st.stream}`}>
          {st.source}.{st.stream}: <code>{st.error!.code}</code> {st.error!.message}
        </p>
      ))}
    </div>
  );
}
