import { useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../shared/api';
import type { SourceStatus } from './api-types';

export interface LoginFormProps {
  /** Why the form shows (the token stopped working), shown above it. */
  notice?: ApiError | null;
  onSignedIn(token: string): void;
}

/** What a failed sign-in means for the person in front of the form. */
function explain(err: unknown): { code?: string; text: string } {
  if (!(err instanceof ApiError)) return { text: String(err) };
  if (err.status === 0) return { text: 'ops server unreachable: is the scheduler role running? Try again.' };
  if (err.code === 'OPS_NO_TOKEN') {
    return {
      code: err.code,
      text: 'the ops server has no admin token: ops.admin_token is not configured (the demo config reads JUNCTION_ADMIN_TOKEN). Set it and restart the scheduler.',
    };
  }
  return { code: err.code, text: err.message };
}

/** The admin sign-in: the token is checked with GET /api/ops/sources before it is kept. */
export function LoginForm({ notice, onSignedIn }: LoginFormProps) {
  const id = useId();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code?: string; text: string } | null>(notice ? explain(notice) : null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setError({ text: 'enter the admin token' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api<{ sources: SourceStatus[] }>('/api/ops/sources', { token: value });
      onSignedIn(value);
    } catch (err) {
      setError(explain(err));
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} noValidate>
        <h1>Junction ops</h1>
        <p className="muted">Sign in with the hub's admin token (<code>ops.admin_token</code>).</p>
        {error && (
          <p role="alert" className="alert">
            {error.code && <code>{error.code}</code>}
            {error.code ? ` ${error.text}` : error.text}
          </p>
        )}
        <label htmlFor={id}>Admin token</label>
        <input id={id} type="password" autoComplete="current-password" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
        {busy && (
          <p role="status" className="muted">
            Checking the token…
          </p>
        )}
      </form>
    </main>
  );
}
