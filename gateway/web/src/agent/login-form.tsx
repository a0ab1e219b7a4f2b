import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../shared/api.js';
import type { AgentSession } from './session.js';

interface Props {
  onLogin(session: AgentSession): void;
  /** Why the agent is back here (session expired…). */
  notice: string | null;
}

export function LoginForm({ onLogin, notice }: Props) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await api<AgentSession>('/api/auth/login', { body: { email, password } }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'login failed');
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Junction agent console</h1>
        {notice && <p className="login-notice" role="status">{notice}</p>}
        <label className="field">
          <span>Email</span>
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          <span>Password</span>
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
