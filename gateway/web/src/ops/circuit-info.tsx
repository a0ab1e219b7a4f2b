import type { CircuitStatus } from './api-types';
import { RelativeTime } from './relative-time';
import { StatusBadge } from './status-badge';

/** A source's circuit: `circuit closed`, or open with why and when the next probe may run. */
export function CircuitInfo({ circuit }: { circuit: CircuitStatus }) {
  const label = `circuit ${circuit.state.replace('_', '-')}`;
  if (circuit.state === 'closed') {
    return <StatusBadge status="closed" label={label} />;
  }
  return (
    <span className="circuit">
      <StatusBadge status={circuit.state} label={label} />
      <span className="muted">
        {' '}
        after {circuit.failures} failure{circuit.failures === 1 ? '' : 's'}
        {circuit.openedAt && (
          <>
            , <RelativeTime iso={circuit.openedAt} prefix="opened " />
          </>
        )}
        {circuit.nextProbeAt && (
          <>
            ; <RelativeTime iso={circuit.nextProbeAt} prefix="next probe " />
          </>
        )}
      </span>
      {(circuit.code || circuit.reason) && (
        <span className="error-text">
          {circuit.code && <code>{circuit.code}</code>} {circuit.reason}
        </span>
      )}
    </span>
  );
}
