/**
 * The admin token of this tab, in sessionStorage (`junction.ops`): it survives a reload but
 * not the tab, and is never put in a URL or a log line.
 */

const KEY = 'junction.ops';

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) || null;
  } catch {
    // Storage can be off (privacy settings): the console still works until a reload.
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    /* see readToken */
  }
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* see readToken */
  }
}
