/**
 * The agent console's error toast (gateway/web/src/agent/error-toast.tsx): a refused frame
 * is the agent's to see, a token the server calls expired is not. The chat client renews it
 * or reconnects with a fresh one, and when none is to be had the console returns to the login
 * form saying the session expired; an error toast for it would alarm for nothing.
 */
import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';

// Computed specifier: the root tsconfig (no DOM, no JSX) must not follow it into gateway/web.
const TOAST_MODULE = '../../gateway/web/src/agent/error-toast.js';

type Problem = { code: string; message: string; at: number };
type ToastModule = {
  useToast(lastError: Problem | null): { toast: { code: string; message: string } | null; dismiss(): void };
  ErrorToast: FunctionComponent<{ error: { code: string; message: string }; onDismiss(): void }>;
};
let toastModule: ToastModule;

beforeAll(async () => {
  toastModule = (await import(/* @vite-ignore */ TOAST_MODULE)) as ToastModule;
});

/** What the console renders for the chat client's `lastError`, as agent-console.tsx does. */
function renderToast(lastError: Problem | null): string {
  function Console() {
    const { toast, dismiss } = toastModule.useToast(lastError);
    return toast ? createElement(toastModule.ErrorToast, { error: toast, onDismiss: dismiss }) : null;
  }
  return renderToStaticMarkup(createElement(Console));
}

const at = Date.now();

describe('the agent console toast', () => {
  it('shows a refused frame as an alert', () => {
    const html = renderToast({ code: 'GW_CONVERSATION_CLOSED', message: 'conversation 4 is closed', at });
    expect(html).toContain('role="alert"');
    expect(html).toContain('GW_CONVERSATION_CLOSED');
  });

  it.each([
    ['the socket token expired (the error before the 4401 close)', 'GW_TOKEN_EXPIRED', 'the token expired'],
    ["a renewed token that is not this socket's (a moved agent's)", 'GW_TOKEN_INVALID', 'the token is for another principal, team or customer; reconnect with it'],
    ['a dropped connection (the banner says it)', 'DISCONNECTED', 'the connection dropped'],
  ])('stays quiet for %s: the client renews or reconnects by itself', (_what, code, message) => {
    expect(renderToast({ code, message, at })).toBe('');
  });
});
