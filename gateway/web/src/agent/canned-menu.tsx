import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { ApiError } from '../shared/api.js';
import { useConsole } from './console-context.js';

interface Reply {
  id: string;
  title: string;
  /** Rendered for this conversation's customer. */
  text: string;
}

interface Props {
  conversationId: number;
  disabled: boolean;
  onChoose(text: string): void;
}

/**
 * `Canned replies`: a menu button (ARIA menu pattern: arrows, Home/End, Enter, Escape). The
 * replies are fetched each time it opens, rendered for the conversation's customer as of now.
 */
export function CannedMenu({ conversationId, disabled, onChoose }: Props) {
  const { call } = useConsole();
  const [open, setOpen] = useState(false);
  const [replies, setReplies] = useState<readonly Reply[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const items = useRef<(HTMLButtonElement | null)[]>([]);
  const menuId = useId();

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  const show = async (at: 'first' | 'last') => {
    setOpen(true);
    setReplies(null);
    setError(null);
    try {
      const r = await call<{ replies: Reply[] }>(`/api/conversations/${conversationId}/canned`);
      setReplies(r.replies);
      setActive(at === 'first' ? 0 : Math.max(0, r.replies.length - 1));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'the replies could not be loaded');
    }
  };

  useEffect(() => {
    if (open && replies) items.current[active]?.focus();
  }, [open, replies, active]);

  // A click elsewhere closes it (focus stays where the click put it).
  useEffect(() => {
    if (!open) return;
    const outside = (e: PointerEvent) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  const choose = (r: Reply) => {
    close(false);
    onChoose(r.text);
  };

  const onMenuKey = (e: KeyboardEvent) => {
    const n = replies?.length ?? 0;
    const moves: Record<string, () => void> = {
      ArrowDown: () => setActive((i) => (i + 1) % Math.max(n, 1)),
      ArrowUp: () => setActive((i) => (i - 1 + Math.max(n, 1)) % Math.max(n, 1)),
      Home: () => setActive(0),
      End: () => setActive(Math.max(0, n - 1)),
      Escape: () => close(true),
      Tab: () => close(false),
    };
    const move = moves[e.key];
    if (!move) return;
    if (e.key !== 'Tab') e.preventDefault();
    move();
  };

  const onButtonKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      void show(e.key === 'ArrowDown' ? 'first' : 'last');
    }
  };

  return (
    <div className="canned" ref={box}>
      <button
        ref={button}
        type="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        disabled={disabled}
        onClick={() => (open ? close(true) : void show('first'))}
        onKeyDown={onButtonKey}
      >
        Canned replies
      </button>
      {open && (
        <ul id={menuId} role="menu" aria-label="Canned replies" className="menu" onKeyDown={onMenuKey}>
          {replies === null && !error && (
            <li role="none" className="menu-note">
              Loading…
            </li>
          )}
          {error && (
            <li role="none" className="menu-note">
              {error}
            </li>
          )}
          {replies?.length === 0 && (
            <li role="none" className="menu-note">
              No canned replies are configured.
            </li>
          )}
          {replies?.map((r, i) => (
            <li role="none" key={r.id}>
              <button
                ref={(el) => {
                  items.current[i] = el;
                }}
                type="button"
                role="menuitem"
                aria-label={r.title}
                tabIndex={i === active ? 0 : -1}
                onClick={() => choose(r)}
              >
                <span className="menu-title">{r.title}</span>
                <span className="menu-preview">{r.text}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
