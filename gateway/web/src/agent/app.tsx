import { useCallback, useState } from 'react';
import { AgentConsole } from './agent-console.js';
import { LoginForm } from './login-form.js';
import { clearSession, loadSession, saveSession, type AgentSession } from './session.js';

/** Login form or console: one ChatClient per login lives inside the console. */
export function App() {
  const [session, setSession] = useState<AgentSession | null>(loadSession);
  const [notice, setNotice] = useState<string | null>(null);

  const onLogin = useCallback((s: AgentSession) => {
    saveSession(s);
    setNotice(null);
    setSession(s);
  }, []);

  /** `why`: shown above the login form (an expired session, a disabled account). */
  const onLogout = useCallback((why?: string) => {
    clearSession();
    setNotice(why ?? null);
    setSession(null);
  }, []);

  if (!session) return <LoginForm onLogin={onLogin} notice={notice} />;
  return <AgentConsole key={session.token} session={session} onLogout={onLogout} />;
}
