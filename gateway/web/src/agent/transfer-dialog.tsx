import { useEffect, useId, useState, type FormEvent } from 'react';
import type { ConversationSummary } from '../shared/chat-client.js';
import type { Directory } from './use-directory.js';
import { useModal } from './use-modal.js';

export type TransferTarget = { toAgentId: number } | { toTeam: string };

interface Props {
  conversation: ConversationSummary;
  /** This agent's id (not offered: claiming is its own button). */
  self: number;
  directory: Directory;
  refresh(): Promise<void>;
  onTransfer(to: TransferTarget): void;
  onCancel(): void;
}

/** `team:<name>` or `agent:<id>` as select values. */
function parseTarget(value: string): TransferTarget | null {
  if (value.startsWith('team:')) return { toTeam: value.slice(5) };
  if (value.startsWith('agent:')) return { toAgentId: Number(value.slice(6)) };
  return null;
}

export function TransferDialog({ conversation: c, self, directory, refresh, onTransfer, onCancel }: Props) {
  const ref = useModal(onCancel);
  const id = useId();
  const [value, setValue] = useState('');

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const agents = directory.agents.filter((a) => a.id !== self);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const target = parseTarget(value);
    if (target) onTransfer(target);
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={`${id}-t`}>
      <form onSubmit={submit}>
        <h2 id={`${id}-t`}>Transfer conversation #{c.id}</h2>
        <label className="field">
          <span>Transfer to</span>
          <select value={value} onChange={(e) => setValue(e.target.value)} required>
            <option value="" disabled>
              Choose a team or an agent…
            </option>
            <optgroup label="Team queues">
              {directory.teams.map((t) => (
                <option key={t} value={`team:${t}`}>
                  Team {t}
                  {t === c.team ? ' (this team)' : ''}
                </option>
              ))}
            </optgroup>
            <optgroup label="Agents">
              {agents.map((a) => (
                <option key={a.id} value={`agent:${a.id}`}>
                  {a.name} ({a.team}) — {a.online ? 'online' : 'offline'}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        {directory.teams.length === 0 && <p className="form-hint">The list of teams and agents could not be loaded.</p>}
        <div className="dialog-buttons">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={value === ''}>
            Transfer
          </button>
        </div>
      </form>
    </dialog>
  );
}
