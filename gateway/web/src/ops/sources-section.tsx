import { useState } from 'react';
import type { ApiError } from '../shared/api';
import type { SourceStatus } from './api-types';
import { ErrorAlert } from './error-alert';
import { SourceCard } from './source-card';

export interface SourcesSectionProps {
  sources: SourceStatus[] | undefined;
  error: ApiError | null;
}

/** Every source with its streams; a sync enqueued from here reports its job id below the heading. */
export function SourcesSection({ sources, error }: SourcesSectionProps) {
  const [message, setMessage] = useState('');
  return (
    <section id="sources" aria-labelledby="sources-heading" className="section">
      <h2 id="sources-heading">Sources</h2>
      <ErrorAlert error={error} />
      <p role="status" className="status-line">
        {message}
      </p>
      {sources === undefined && !error && <p className="muted">Loading…</p>}
      {sources?.length === 0 && <p className="muted">No sources are configured.</p>}
      {sources?.map((s) => <SourceCard key={s.name} source={s} onEnqueued={setMessage} />)}
    </section>
  );
}
