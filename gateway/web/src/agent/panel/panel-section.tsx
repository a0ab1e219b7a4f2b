import { useId, type ReactNode } from 'react';
import { AsOf } from './as-of.js';
import { StaleBadge } from './stale-badge.js';
import type { Part } from './types.js';

interface PanelSectionProps<T> {
  title: string;
  part: Part<T> | null;
  now: number;
  /** Renders the part's data; not called when the part could not be read. */
  children: (data: T) => ReactNode;
}

/** One part of the panel: its h2, as-of time and stale state, then its content. */
export function PanelSection<T>({ title, part, now, children }: PanelSectionProps<T>) {
  const id = useId();
  return (
    <section className="cp-section" aria-labelledby={id}>
      <header className="cp-section-head">
        <h2 id={id}>{title}</h2>
        {part && <AsOf at={part.asOf} now={now} />}
        {part?.stale && <StaleBadge since={part.staleSince} error={part.error} asOf={part.asOf} now={now} />}
      </header>
      {part === null ? (
        <p className="cp-muted">Not available.</p>
      ) : part.data === null ? (
        <p className="cp-muted">Could not be read{part.error ? ` (${part.error})` : ''}.</p>
      ) : (
        children(part.data)
      )}
    </section>
  );
}
