import type { CircuitStatus } from './api-types';
import { RelativeTime } from './relative-time';
import { StatusBadge } from './status-badge';

/**
 * A source's circuit: `circuit closed`, or open with why and when the next probe may run, or
 * unknown with why (`error`: Redis could not be read).
 */
export function CircuitInfo({ circuit, error }: { circuit: CircuitStatus | null; error: string | null }) {
  if (!circuit) {
    return (
      <span className="circuit">
        <StatusBadge status="unknown" label="circuit unknown" /> <span className="error-text">{error}</span>
      </span>
    );
  }
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
