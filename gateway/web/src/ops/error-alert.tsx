import type { ApiError } from '../shared/api';

/** An API error as the server put it: its stable code, then its message. */
export function ErrorAlert({ error, context }: { error: ApiError | null; context?: string }) {
  if (!error) return null;
  return (
    <p role="alert" className="alert">
      {context ? `${context}: ` : ''}
      <code>{error.code}</code> {error.message}
    </p>
  );
}
