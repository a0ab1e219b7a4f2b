import type { SourceStatus } from './api-types';
import { CircuitInfo } from './circuit-info';
import { StreamRow } from './stream-row';

export interface SourceCardProps {
  source: SourceStatus;
  /** Reports a sync enqueued from one of the streams. */
  onEnqueued(message: string): void;
}

/** A source: its type and circuit, then a table of its streams. */
export function SourceCard({ source, onEnqueued }: SourceCardProps) {
  return (
    <article className="card" aria-labelledby={`source-${source.name}`}>
      <header className="card-head">
        <h3 id={`source-${source.name}`}>{source.name}</h3>
        <span className="muted">{source.type}</span>
        {!source.enabled && <span className="badge badge-idle">disabled</span>}
        <CircuitInfo circuit={source.circuit} error={source.circuitError} />
      </header>
      <table className="data-table streams-table">
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">Health</th>
            <th scope="col">Last checkpoint</th>
            <th scope="col">Lag</th>
            <th scope="col" className="num">
              Records
            </th>
            <th scope="col" className="num">
              Dead letters
            </th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {source.streams.map((st) => (
            <StreamRow key={st.stream} source={source.name} enabled={source.enabled} circuit={source.circuit?.state ?? null} stream={st} onEnqueued={onEnqueued} />
          ))}
        </tbody>
      </table>
    </article>
  );
}
