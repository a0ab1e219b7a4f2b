/**
 * The widget's DOM inside its shadow root: the launcher bubble and the chat panel (title,
 * connection status, message log, typing indicator, composer). `render` applies a
 * {@link ViewModel} and touches only what changed, keyed per message, so the scroll
 * position, focus and screen readers' live regions are left alone.
 */
import type { ChatMessage, ChatStatus } from '../shared/chat-client.js';
import { attr, h, text } from './dom.js';

export interface ViewModel {
  open: boolean;
  status: ChatStatus;
  messages: readonly ChatMessage[];
  /** The highest seq of this visitor's messages an agent has read. */
  readUpTo: number;
  agentTyping: boolean;
  unread: number;
  /** The conversation shown was closed. */
  closed: boolean;
  maxChars: number;
}

export interface ViewEvents {
  toggle(): void;
  send(text: string): void;
  retry(message: ChatMessage): void;
  typing(): void;
  /** The log was scrolled, or new messages shown. */
  seen(): void;
}

const STATUS_TEXT: Record<ChatStatus, string> = {
  idle: 'Connecting…',
  connecting: 'Connecting…',
  online: '',
  reconnecting: 'Reconnecting…',
  unauthorized: 'The chat is not available right now.',
  stopped: '',
};

const SVG = 'http://www.w3.org/2000/svg';

function icon(d: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

const CHAT_ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
const CLOSE_ICON = 'M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12 19 6.4 17.6 5 12 10.6z';

const key = (m: ChatMessage) => (m.mine ? `me|${m.clientMsgId}` : `${m.sender.id}|${m.clientMsgId}`);

function timeOf(at: string): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export class WidgetView {
  readonly launcher: HTMLButtonElement;
  readonly panel: HTMLDivElement;
  readonly log: HTMLDivElement;
  readonly input: HTMLTextAreaElement;
  private readonly badge: HTMLSpanElement;
  private readonly unreadText: HTMLSpanElement;
  private readonly status: HTMLDivElement;
  private readonly typing: HTMLDivElement;
  private readonly empty: HTMLParagraphElement;
  private readonly closedNote: HTMLParagraphElement;
  private readonly rows = new Map<string, HTMLDivElement>();
  private wasOpen = false;

  constructor(
    root: ShadowRoot,
    title: string,
    private readonly on: ViewEvents,
  ) {
    this.badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    this.unreadText = h('span', { id: 'jc-unread', class: 'sr' });
    this.launcher = h('button', { type: 'button', class: 'launcher', 'aria-label': 'Open chat', 'aria-expanded': 'false', 'aria-controls': 'jc-panel', 'aria-describedby': 'jc-unread' });
    this.launcher.append(icon(CHAT_ICON), icon(CLOSE_ICON), this.badge);

    this.status = h('div', { class: 'status', role: 'status', 'aria-label': 'Connection' });
    this.empty = h('p', { class: 'empty' }, 'Hi! Ask us anything: an order, a delivery, a refund. 您好，有什么可以帮您？');
    this.closedNote = h('p', { class: 'note', hidden: true }, 'This conversation was closed. Write again to reopen it.');
    this.log = h('div', { class: 'log', role: 'log', 'aria-label': 'Messages', tabindex: '0' }, this.empty);
    this.typing = h('div', { class: 'typing', 'aria-live': 'polite' });
    this.input = h('textarea', { 'aria-label': 'Message', rows: '1', placeholder: 'Write a message…', enterkeyhint: 'send' });
    const send = h('button', { type: 'submit', class: 'send' }, 'Send');
    const form = h('form', { class: 'composer' }, this.input, send);
    this.panel = h(
      'div',
      { id: 'jc-panel', class: 'panel', role: 'dialog', 'aria-label': 'Chat with us', hidden: true },
      h('header', {}, h('h2', {}, title), h('p', {}, 'We usually answer within a few minutes.')),
      this.status,
      this.log,
      this.closedNote,
      this.typing,
      form,
    );
    root.append(h('div', { class: 'root' }, this.panel, this.launcher, this.unreadText));

    this.launcher.addEventListener('click', () => on.toggle());
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        on.toggle();
      }
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter is a new line; never while an IME is composing (Chinese input).
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => {
      this.autosize();
      if (this.input.value.trim()) on.typing();
    });
    this.log.addEventListener('scroll', () => on.seen(), { passive: true });
  }

  /** The log shows its latest message (scrolled to the bottom, give or take a line). */
  atBottom(): boolean {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 24;
  }

  focusLauncher(): void {
    this.launcher.focus();
  }

  private submit(): void {
    const value = this.input.value.trim();
    if (!value) return;
    this.on.send(value);
    this.input.value = '';
    this.autosize();
  }

  private autosize(): void {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
  }

  render(m: ViewModel): void {
    const opening = m.open && !this.wasOpen;
    this.wasOpen = m.open;
    const stick = opening || this.atBottom();

    attr(this.launcher, 'aria-label', m.open ? 'Close chat' : 'Open chat');
    attr(this.launcher, 'aria-expanded', String(m.open));
    this.panel.hidden = !m.open;
    const unread = m.open ? 0 : m.unread;
    this.badge.hidden = unread === 0;
    text(this.badge, unread > 9 ? '9+' : String(unread));
    text(this.unreadText, unread > 0 ? `${unread} unread` : '');

    const status = STATUS_TEXT[m.status];
    text(this.status, status);
    this.status.classList.toggle('shown', status !== '');
    this.input.maxLength = m.maxChars;

    this.renderMessages(m);
    this.empty.hidden = m.messages.length > 0;
    this.closedNote.hidden = !m.closed;
    text(this.typing, m.agentTyping ? 'Agent is typing…' : '');

    if (stick) this.log.scrollTop = this.log.scrollHeight;
    if (opening) this.input.focus();
  }

  private renderMessages(m: ViewModel): void {
    const seen = new Set<string>();
    let prev: Element = this.empty;
    for (const msg of m.messages) {
      const k = key(msg);
      seen.add(k);
      let row = this.rows.get(k);
      if (!row) {
        row = h('div', { class: 'msg' }, h('span', { class: 'sr' }), h('div', { class: 'bubble', dir: 'auto' }), h('div', { class: 'meta' }));
        this.rows.set(k, row);
      }
      this.fill(row, msg, m.readUpTo);
      if (prev.nextElementSibling !== row) prev.after(row);
      prev = row;
    }
    for (const [k, row] of this.rows) {
      if (!seen.has(k)) {
        row.remove();
        this.rows.delete(k);
      }
    }
  }

  private fill(row: HTMLDivElement, msg: ChatMessage, readUpTo: number): void {
    attr(row, 'data-seq', msg.seq === null ? '' : String(msg.seq));
    attr(row, 'data-client-msg-id', msg.clientMsgId);
    attr(row, 'data-mine', String(msg.mine));
    row.className = `msg ${msg.mine ? 'mine' : 'theirs'} ${msg.state}`;
    const [who, bubble, meta] = row.children as unknown as [HTMLElement, HTMLElement, HTMLElement];
    text(who, msg.mine ? 'You: ' : 'Agent: ');
    text(bubble, msg.text);

    const mark = !msg.mine ? null : msg.state === 'pending' ? 'Sending' : msg.state === 'failed' ? null : msg.seq !== null && msg.seq <= readUpTo ? 'Read' : 'Sent';
    const sig = `${msg.at}|${mark}|${msg.state}|${msg.error?.message ?? ''}`;
    if (meta.dataset.sig === sig) return;
    meta.dataset.sig = sig;
    meta.replaceChildren(h('time', { datetime: msg.at }, timeOf(msg.at)));
    if (mark) meta.append(h('span', { class: `mark ${mark.toLowerCase()}`, 'aria-label': mark, title: mark }, mark === 'Read' ? '✓✓' : mark === 'Sent' ? '✓' : '…'));
    if (msg.state === 'failed') {
      const retry = h('button', { type: 'button', class: 'retry' }, 'Retry');
      retry.addEventListener('click', () => this.on.retry(msg));
      meta.append(h('span', { class: 'error', role: 'alert' }, `Not sent: ${msg.error?.message ?? 'refused'}`), retry);
    }
  }
}
