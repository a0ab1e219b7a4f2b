import { useState } from 'react';
import type { ConversationSummary } from '../shared/chat-client.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { useConsole } from './console-context.js';
import { TransferDialog, type TransferTarget } from './transfer-dialog.js';
import type { Directory } from './use-directory.js';

interface Props {
  conversation: ConversationSummary;
  queued: boolean;
  directory: Directory;
  refreshDirectory(): Promise<void>;
}

const OFFLINE = { code: 'OFFLINE', message: 'not connected to the chat server; try again when the connection is back' };

/** Claim (a queued conversation), Transfer, Close conversation. */
export function ChatActions({ conversation: c, queued, directory, refreshDirectory }: Props) {
  const { client, session, report } = useConsole();
  const [dialog, setDialog] = useState<'transfer' | 'close' | null>(null);

  const transfer = (to: TransferTarget) => {
    setDialog(null);
    if (!client.transfer(c.id, to)) report(OFFLINE);
  };

  return (
    <div className="chat-actions">
      {queued && (
        <button type="button" className="primary" onClick={() => (client.transfer(c.id, { toAgentId: session.agent.id }) ? undefined : report(OFFLINE))}>
          Claim
        </button>
      )}
      <button type="button" aria-haspopup="dialog" onClick={() => setDialog('transfer')}>
        Transfer
      </button>
      <button type="button" aria-haspopup="dialog" onClick={() => setDialog('close')}>
        Close conversation
      </button>
      {dialog === 'transfer' && (
        <TransferDialog conversation={c} self={session.agent.id} directory={directory} refresh={refreshDirectory} onTransfer={transfer} onCancel={() => setDialog(null)} />
      )}
      {dialog === 'close' && (
        <ConfirmDialog
          title={`Close conversation #${c.id}?`}
          body="The customer can still write back within a day; that reopens it."
          confirm="Close"
          onConfirm={() => {
            setDialog(null);
            if (!client.closeConversation(c.id)) report(OFFLINE);
          }}
          onCancel={() => setDialog(null)}
        />
      )}
    </div>
  );
}
