import { useCallback, useState } from 'react';
import type { ApiError } from '../shared/api';
import { ConsoleView } from './console-view';
import { LoginForm } from './login-form';
import { OpsProvider } from './ops-provider';
import { clearToken, readToken, saveToken } from './token-store';

/** Signed out: the sign-in form; signed in: the console. Any 401 comes back here. */
export function App() {
  const [token, setToken] = useState<string | null>(readToken);
  // Each refusal remounts the form with its notice (a second one must show again).
  const [notice, setNotice] = useState<{ error: ApiError; seq: number } | null>(null);

  const signIn = useCallback((value: string) => {
    saveToken(value);
    setNotice(null);
    setToken(value);
  }, []);
  const signOut = useCallback(() => {
    clearToken();
    setNotice(null);
    setToken(null);
  }, []);
  const refused = useCallback((err: ApiError) => {
    clearToken();
    setNotice((n) => ({ error: err, seq: (n?.seq ?? 0) + 1 }));
    setToken(null);
  }, []);

  if (!token) return <LoginForm key={notice?.seq ?? 0} notice={notice?.error} onSignedIn={signIn} />;
  return (
    <OpsProvider token={token} onUnauthorized={refused}>
      <ConsoleView onSignOut={signOut} />
    </OpsProvider>
  );
}
