import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../shared/api';
import type { Enqueued } from './api-types';
import { useOps } from './ops-context';

export interface SyncMenuProps {
  source: string;
  stream: string;
  disabled?: boolean;
  /** The text for the section's status line. */
  onEnqueued(message: string): void;
}

type Mode = 'incremental' | 'full';

/**
 * `Sync now` (incremental, the usual) with a small menu beside it for a full sync, which
 * re-reads the whole stream and so is kept one step away.
 */
export function SyncMenu({ source, stream, disabled, onEnqueued }: SyncMenuProps) {
  const { call, expectActivity } = useOps();
  const ref = `${source}.${stream}`;
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const first = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    first.current?.focus();
    const onDown = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    return () => document.removeEventListener('pointerdown', onDown);
  }, [open]);

  const sync = async (mode: Mode) => {
    setOpen(false);
    setBusy(true);
    setError(null);
    try {
      const out = await call<Enqueued>('/syncs', { method: 'POST', body: { source, stream, mode } });
      onEnqueued(`${mode === 'full' ? 'Full' : 'Incremental'} sync of ${ref} queued: job ${out.jobId}`);
      expectActivity();
    } catch (err) {
      if (err instanceof ApiError && !err.unauthorized && err.status !== 0) setError(err);
      if (err instanceof ApiError && err.status === 0) onEnqueued(`Sync of ${ref} not queued: ops server unreachable`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div
      className="split"
      ref={root}
      onBlur={(e) => {
        // Tabbing out of the menu closes it, as a click outside does.
        if (open && !root.current?.contains(e.relatedTarget as Node | null)) setOpen(false);
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          setOpen(false);
          toggle.current?.focus();
        }
      }}
    >
      <button type="button" className="primary" aria-label={`Sync now ${ref}`} disabled={disabled || busy} onClick={() => void sync('incremental')}>
        Sync now
      </button>
      <button
        type="button"
        ref={toggle}
        className="primary split-toggle"
        aria-label={`More sync options for ${ref}`}
        aria-haspopup="menu"
        aria-expanded={open}
        disabled={disabled || busy}
        onClick={() => setOpen((o) => !o)}
      >
        <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div role="menu" aria-label={`Sync options for ${ref}`} className="menu">
          <button type="button" role="menuitem" ref={first} aria-label={`Full sync ${ref}`} onClick={() => void sync('full')}>
            Full sync <span className="muted">(re-read everything)</span>
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="alert small">
          <code>{error.code}</code> {error.message}
        </p>
      )}
    </div>
  );
}
