import { formatExact, formatSince } from './format.js';
import { Tooltip } from './tooltip.js';

/**
 * A stale part's badge; the tooltip says why. Most errors mean the source is failing or slow:
 * "stale since 14:03" (when it started failing). `GW_LOOKUP_RATE_LIMITED` means nothing of the
 * kind: syncs have spent the source's shared request window, so the live lookup was not even
 * tried and `staleSince` is only when that was found; the badge says so and gives the time of
 * the data shown instead ("rate limited — shown as of 14:03").
 */
export function StaleBadge({ since, error, asOf, now }: { since: string | null; error: string | null; asOf?: string | null; now: number }) {
  if (error === 'GW_LOOKUP_RATE_LIMITED') {
    const tip = (
      <>
        <span className="cp-tip-row">{`Syncs have used this source's request allowance for now (${error}), so the live status was not asked for; the source itself is not failing.`}</span>{' '}
        <span className="cp-tip-row">{`Showing the data${asOf ? ` as of ${formatExact(asOf)}` : ' last read'}.`}</span>
      </>
    );
    return (
      <Tooltip tip={tip} className="cp-stale">
        {asOf ? `rate limited — shown as of ${formatSince(asOf, now)}` : 'rate limited'}
      </Tooltip>
    );
  }
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
