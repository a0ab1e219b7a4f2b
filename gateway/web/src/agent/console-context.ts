import { createContext, useContext } from 'react';
import type { ApiOptions } from '../shared/api.js';
import type { ChatClient } from '../shared/chat-client.js';
import type { AgentSession } from './session.js';

export interface ConsoleContext {
  session: AgentSession;
  /** `agent:<id>`: this agent as a message sender. */
  me: string;
  client: ChatClient;
  /**
   * A REST call with the session's token. A refused token logs out (back to the login form
   * with a message) before the ApiError reaches the caller.
   */
  call<T>(path: string, options?: Omit<ApiOptions, 'token'>): Promise<T>;
  /** Shows a problem in the error toast. */
  report(error: { code: string; message: string }): void;
}

export const ConsoleCtx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const c = useContext(ConsoleCtx);
  if (!c) throw new Error('useConsole outside the agent console');
  return c;
}
