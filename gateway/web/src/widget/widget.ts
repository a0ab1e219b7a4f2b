/**
 * The embeddable customer chat widget (`/widget.js`):
 *
 * ```html
 * <script src="https://chat.example.com/widget.js" async
 *   data-identity='{"email":"ann@example.com"}' data-timestamp="…" data-signature="…"
 *   data-title="Chat with us"></script>
 * ```
 *
 * The identity attributes are optional (signed by the retailer's server, see
 * gateway/PROTOCOL.md); without them the visitor is anonymous. Everything lives in an open
 * shadow root on a `<junction-chat>` element; the protocol is `ChatClient`'s.
 */
import { ChatClient, type ChatMessage, type ChatState } from '../shared/chat-client.js';
import css from './widget.css?inline';
import { findScript, readConfig, type EmbedConfig } from './embed.js';
import { loadHistory } from './history.js';
import { VisitorSession } from './session.js';
import { WidgetView, type ViewModel } from './view.js';

/** How often a "typing" frame is sent at most while the visitor types. */
const TYPING_EVERY_MS = 3000;

function mountHost(): ShadowRoot {
  const host = document.createElement('junction-chat');
  const root = host.attachShadow({ mode: 'open' });
  // A constructed sheet is not subject to the page's CSP style-src; <style> is the fallback.
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch {
    const style = document.createElement('style');
    style.textContent = css;
    root.append(style);
  }
  document.body.append(host);
  return root;
}

class Widget {
  private readonly session: VisitorSession;
  private readonly client: ChatClient;
  private readonly view: WidgetView;
  private open = false;
  /** Conversations whose REST history was asked for. */
  private readonly fetched = new Set<number>();
  /** Conversations that can no longer be written to (closed for good): the next message opens a new one. */
  private readonly ended = new Set<number>();
  /** Read marks from REST history, by conversation (the socket only relays new ones). */
  private readonly storedReads = new Map<number, Record<string, number>>();
  /** Failed messages the visitor chose to send again. */
  private readonly dismissed = new Set<string>();
  private lastTyping = 0;
  private opened = false;

  constructor(private readonly cfg: EmbedConfig) {
    this.session = new VisitorSession(cfg);
    this.client = new ChatClient({
      url: cfg.socketUrl,
      getToken: async () => {
        if (!this.opened) {
          await this.session.open();
          this.opened = true;
        }
        return this.session.token();
      },
      checkAuth: () => this.session.check(),
    });
    this.view = new WidgetView(mountHost(), cfg.title, {
      toggle: () => this.toggle(),
      send: (text) => this.send(text),
      retry: (m) => {
        this.dismissed.add(m.clientMsgId);
        this.send(m.text);
      },
      typing: () => this.typing(),
      seen: () => this.markRead(),
    });
    this.client.subscribe(() => this.update());
    window.addEventListener('online', () => this.client.retryNow());
    document.addEventListener('visibilitychange', () => this.markRead());
    this.update();
    this.client.start();
  }

  /** The conversation shown: the visitor's latest one still writable. */
  private current(s: ChatState): number | null {
    let best: number | null = null;
    for (const k of [...Object.keys(s.conversations), ...Object.keys(s.messages)]) {
      const id = Number(k);
      if (!this.ended.has(id) && (best === null || id > best)) best = id;
    }
    return best;
  }

  private update(): void {
    const s = this.client.getState();
    const cid = this.current(s);
    this.fetchHistory(s);
    const me = s.participantId ?? this.session.participantId;
    const inConversation = cid === null ? [] : this.client.messagesOf(cid);
    const messages: ChatMessage[] = [...inConversation, ...s.unassigned].filter((m) => !(m.state === 'failed' && this.dismissed.has(m.clientMsgId)));
    const seen = cid === null ? 0 : this.session.readSeq(cid);
    const reads = cid === null ? [] : [...Object.entries(this.storedReads.get(cid) ?? {}), ...Object.entries(s.readBy[cid] ?? {})];
    const readUpTo = Math.max(0, ...reads.filter(([who]) => who !== me).map(([, seq]) => seq));
    const model: ViewModel = {
      open: this.open,
      status: s.status,
      messages,
      readUpTo,
      agentTyping: cid !== null && Object.keys(s.typing[cid] ?? {}).some((who) => who !== me),
      unread: inConversation.filter((m) => !m.mine && m.seq !== null && m.seq > seen).length,
      closed: cid !== null && s.conversations[cid]?.status === 'closed',
      maxChars: s.maxTextChars,
    };
    this.view.render(model);
    this.forgetRefused(s, cid);
    this.markRead();
  }

  /** A message refused because its conversation is closed for good: start a new one next time. */
  private forgetRefused(s: ChatState, cid: number | null): void {
    if (cid === null) return;
    const refused = this.client.messagesOf(cid).some((m) => m.state === 'failed' && m.error?.code === 'GW_CONVERSATION_CLOSED' && !this.dismissed.has(m.clientMsgId));
    if (refused && s.conversations[cid]?.status !== 'open') this.ended.add(cid);
  }

  /** Each conversation the socket names: its stored history, once (a reload shows it). */
  private fetchHistory(s: ChatState): void {
    const me = s.participantId;
    if (!me || s.status !== 'online') return;
    for (const k of Object.keys(s.conversations)) {
      const id = Number(k);
      if (this.fetched.has(id)) continue;
      this.fetched.add(id);
      this.session
        .token()
        .then((token) => loadHistory(this.cfg.origin, token, id, me))
        .then(({ messages, reads }) => {
          this.storedReads.set(id, reads);
          // Read on another tab or device counts as seen here too.
          if (reads[me]) this.session.markSeen(id, reads[me]);
          this.client.merge(id, messages);
          this.update();
        })
        .catch(() => this.fetched.delete(id));
    }
  }

  private toggle(): void {
    this.open = !this.open;
    this.update();
    if (!this.open) this.view.focusLauncher();
  }

  private send(text: string): void {
    const s = this.client.getState();
    const cid = this.current(s);
    // The page without its query and fragment: they carry what a site should not hand over
    // (a reset token, the shopper's email, a session id), and routing rules match paths.
    if (cid === null) this.client.send(text, { page: { url: location.origin + location.pathname, language: navigator.language, channel: 'web' } });
    else this.client.send(text, { conversationId: cid });
    this.lastTyping = 0;
  }

  private typing(): void {
    const cid = this.current(this.client.getState());
    if (cid === null || Date.now() - this.lastTyping < TYPING_EVERY_MS) return;
    this.lastTyping = Date.now();
    this.client.typing(cid, true);
  }

  /** The panel is open, the page visible and the log shows the latest message: read. */
  private markRead(): void {
    if (!this.open || document.visibilityState !== 'visible' || !this.view.atBottom()) return;
    const cid = this.current(this.client.getState());
    if (cid === null) return;
    // Cumulative, like the read mark it becomes: never past a hole (its messages were not shown).
    const seq = this.client.heldThrough(cid);
    if (seq <= 0) return;
    if (seq > this.session.readSeq(cid)) {
      this.session.markSeen(cid, seq);
      // The badge counts from what was seen: show it gone.
      queueMicrotask(() => this.update());
    }
    this.client.markRead(cid, seq);
  }
}

function boot(): void {
  const script = findScript();
  if (!script) {
    console.warn('Junction chat: cannot find the widget.js script tag');
    return;
  }
  if (document.querySelector('junction-chat')) return; // embedded twice
  const cfg = readConfig(script);
  const start = () => new Widget(cfg);
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}

boot();
