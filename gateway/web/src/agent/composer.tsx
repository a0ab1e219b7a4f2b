import { useId, useRef, type FormEvent, type KeyboardEvent } from 'react';
import { CannedMenu } from './canned-menu.js';
import { useConsole } from './console-context.js';
import { useTypingSignal } from './use-typing-signal.js';

interface Props {
  conversationId: number;
  draft: string;
  setDraft(text: string): void;
  /** `gateway.max_text_chars`, from the welcome. */
  maxChars: number;
  /** Why nothing can be written here (closed, transferred away); null when it can. */
  disabledReason: string | null;
}

/** The counter shows in the last 10 % of the limit (at least the last 20 characters). */
const counterFrom = (max: number) => max - Math.max(20, Math.round(max * 0.1));

/** Enter sends, Shift+Enter is a newline; Enter that confirms an IME composition (Chinese input) does neither. */
export function Composer({ conversationId, draft, setDraft, maxChars, disabledReason }: Props) {
  const { client } = useConsole();
  const area = useRef<HTMLTextAreaElement>(null);
  const { typed, stop } = useTypingSignal(client, conversationId);
  const counterId = useId();
  const text = draft.trim();
  const canSend = disabledReason === null && text !== '' && text.length <= maxChars;

  const send = (e?: FormEvent) => {
    e?.preventDefault();
    if (!canSend) return;
    client.send(text, { conversationId });
    setDraft('');
    stop();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  };

  /** A canned reply goes where the caret is (replacing a selection). */
  const insert = (reply: string) => {
    const el = area.current;
    const start = el?.selectionStart ?? draft.length;
    const end = el?.selectionEnd ?? draft.length;
    const next = (draft.slice(0, start) + reply + draft.slice(end)).slice(0, maxChars);
    setDraft(next);
    requestAnimationFrame(() => {
      el?.focus();
      const caret = Math.min(start + reply.length, next.length);
      el?.setSelectionRange(caret, caret);
    });
  };

  const showCounter = draft.length >= counterFrom(maxChars);
  return (
    <form className="composer" onSubmit={send}>
      {disabledReason && <p className="composer-note">{disabledReason}</p>}
      <textarea
        ref={area}
        aria-label="Message"
        aria-describedby={showCounter ? counterId : undefined}
        rows={3}
        maxLength={maxChars}
        value={draft}
        disabled={disabledReason !== null}
        placeholder="Write a reply… (Enter sends, Shift+Enter for a new line)"
        onChange={(e) => {
          setDraft(e.target.value);
          if (e.target.value !== '') typed();
          else stop();
        }}
        onKeyDown={onKeyDown}
        onBlur={stop}
      />
      <div className="composer-bar">
        <CannedMenu key={conversationId} conversationId={conversationId} disabled={disabledReason !== null} onChoose={insert} />
        <span id={counterId} className="counter" aria-live="polite" data-over={draft.length >= maxChars}>
          {showCounter ? `${draft.length} / ${maxChars}` : ''}
        </span>
        <button type="submit" className="primary" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
