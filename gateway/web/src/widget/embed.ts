/**
 * Where the widget was embedded from: its own `<script>` tag (`document.currentScript`
 * while it first runs; with `async` some loaders lose it, so the first
 * `script[src$="/widget.js"]` is the fallback), the gateway origin its `src` names, and
 * the retailer's `data-*` attributes.
 */

export interface SignedIdentity {
  identity: Record<string, string>;
  timestamp: number;
  signature: string;
}

export interface EmbedConfig {
  /** `https://chat.example.com`: where the REST API lives. */
  origin: string;
  /** `wss://chat.example.com/ws`. */
  socketUrl: string;
  title: string;
  /** The retailer's signed identity of the shopper; null: anonymous. */
  signed: SignedIdentity | null;
  /** A stable key of the signed claims (null when anonymous): which identity a stored token belongs to. */
  identityKey: string | null;
}

export function findScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.src) return current;
  return document.querySelector<HTMLScriptElement>('script[src$="/widget.js"]');
}

function parseSigned(script: HTMLScriptElement): SignedIdentity | null {
  const { identity, timestamp, signature } = script.dataset;
  if (!identity || !timestamp || !signature) return null;
  try {
    const claims = JSON.parse(identity) as unknown;
    const ts = Number(timestamp);
    if (!claims || typeof claims !== 'object' || Array.isArray(claims) || !Number.isInteger(ts)) throw new Error('malformed');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(claims)) if (typeof v === 'string') out[k] = v;
    return { identity: out, timestamp: ts, signature };
  } catch {
    console.warn('Junction chat: data-identity is not a JSON object; chatting anonymously');
    return null;
  }
}

export function readConfig(script: HTMLScriptElement): EmbedConfig {
  const src = new URL(script.src, location.href);
  const signed = parseSigned(script);
  const identityKey = signed
    ? JSON.stringify(
        Object.keys(signed.identity)
          .sort()
          .map((k) => [k, signed.identity[k]]),
      )
    : null;
  return {
    origin: src.origin,
    socketUrl: `${src.protocol === 'https:' ? 'wss:' : 'ws:'}//${src.host}/ws`,
    title: script.dataset.title || 'Chat with us',
    signed,
    identityKey,
  };
}
