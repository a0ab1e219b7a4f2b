import { useCallback, useEffect, useRef } from 'react';
import type { ChatClient } from '../shared/chat-client.js';

/** `typing on` is renewed at most this often while the agent types (the other side forgets it after 6 s). */
const RENEW_MS = 2500;
/** Typing stops being announced after this long without input. */
const IDLE_MS = 3000;

/**
 * The agent's typing indicator for the other side: `on` when typing starts (renewed while it
 * goes on), `off` after 3 s without input, on send, and when leaving the conversation.
 */
export function useTypingSignal(client: ChatClient, conversationId: number) {
  const state = useRef({ on: false, sentAt: 0, idle: undefined as ReturnType<typeof setTimeout> | undefined });

  const stop = useCallback(() => {
    const s = state.current;
    clearTimeout(s.idle);
    if (s.on) client.typing(conversationId, false);
    s.on = false;
    s.sentAt = 0;
  }, [client, conversationId]);

  const typed = useCallback(() => {
    const s = state.current;
    const now = Date.now();
    if (!s.on || now - s.sentAt > RENEW_MS) {
      client.typing(conversationId, true);
      s.on = true;
      s.sentAt = now;
    }
    clearTimeout(s.idle);
    s.idle = setTimeout(stop, IDLE_MS);
  }, [client, conversationId, stop]);

  // Leaving the conversation (or the page) ends typing in it.
  useEffect(() => stop, [stop]);

  return { typed, stop };
}
