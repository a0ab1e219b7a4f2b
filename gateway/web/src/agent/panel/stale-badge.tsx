import { formatExact, formatSince } from './format.js';
import { Tooltip } from './tooltip.js';

/** "stale since 14:03": the part shows the last known data; the tooltip names the error. */
export function StaleBadge({ since, error, now }: { since: string | null; error: string | null; now: number }) {
  const tip = (
    <>
      <span className="cp-tip-row">{`The source is not answering${error ? ` (${error})` : ''}.`}</span>{' '}
      <span className="cp-tip-row">{`Showing the last known data${since ? `; failing since ${formatExact(since)}` : ''}.`}</span>
    </>
  );
  return (
    <Tooltip tip={tip} className="cp-stale">
      {`stale since ${formatSince(since, now)}`}
    </Tooltip>
  );
}
