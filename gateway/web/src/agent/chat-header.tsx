import type { ConversationSummary } from '../shared/chat-client.js';
import { ChatActions } from './chat-actions.js';
import type { ListEntry } from './conversation-view.js';
import type { Directory } from './use-directory.js';

interface Props {
  conversation: ConversationSummary;
  entry: ListEntry | null;
  directory: Directory;
  refreshDirectory(): Promise<void>;
}

const STATE_TEXT = { queued: 'queued', mine: 'assigned to you', closed: 'closed' } as const;

export function ChatHeader({ conversation: c, entry, directory, refreshDirectory }: Props) {
  return (
    <div className="chat-header">
      <div className="chat-title">
        <h2>Conversation #{c.id}</h2>
        <p className="chat-sub">
          {entry?.customerName ?? 'Visitor'} · team {c.team} · {entry ? STATE_TEXT[entry.group] : 'no longer yours'}
        </p>
      </div>
      {entry && entry.group !== 'closed' && <ChatActions conversation={c} queued={entry.group === 'queued'} directory={directory} refreshDirectory={refreshDirectory} />}
    </div>
  );
}
