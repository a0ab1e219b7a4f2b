import { memo } from 'react';
import type { ChatMessage } from '../shared/chat-client.js';
import { formatTime } from './format.js';
import { MessageMark } from './message-mark.js';

interface Props {
  message: ChatMessage;
  sender: string;
  /** Same sender as the message before, shortly after: the name is not repeated (screen readers still get it). */
  continued: boolean;
  /** The other side read it (this agent's messages only). */
  read: boolean;
  onRetry(clientMsgId: string, text: string): void;
}

/** Han, kana or hangul: marked `lang` so the CJK font picks the right glyph forms. */
function langOf(text: string): string | undefined {
  if (/[\u3040-\u30ff]/.test(text)) return 'ja';
  if (/[\uac00-\ud7af]/.test(text)) return 'ko';
  if (/[\u3400-\u9fff\uf900-\ufaff]/.test(text)) return 'zh';
  return undefined;
}

export const MessageItem = memo(function MessageItem({ message: m, sender, continued, read, onRetry }: Props) {
  return (
    <li className="message" data-seq={m.seq ?? ''} data-client-msg-id={m.clientMsgId} data-mine={m.mine ? 'true' : 'false'} data-kind={m.sender.kind} data-state={m.state} data-continued={continued}>
      <div className="bubble">
        <p className={continued ? 'sender visually-hidden' : 'sender'}>{sender}</p>
        <p className="message-text" lang={langOf(m.text)}>
          {m.text}
        </p>
        <p className="message-foot">
          <time dateTime={m.at} title={new Date(m.at).toLocaleString()}>
            {formatTime(m.at)}
          </time>
          {m.mine && <MessageMark state={m.state} read={read} />}
        </p>
      </div>
      {m.state === 'failed' && (
        <p className="message-error">
          Not sent: {m.error?.message ?? 'refused'}{' '}
          <button type="button" onClick={() => onRetry(m.clientMsgId, m.text)}>
            Retry
          </button>
        </p>
      )}
    </li>
  );
});
