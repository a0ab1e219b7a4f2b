/**
 * From the raw bytes of a SOAP response or WSDL to text. Legacy services answer in their own
 * charset (GBK from a Chinese PHP service), so the bytes are decoded by what the answer says
 * it is: the Content-Type's `charset=`, else a byte-order mark, else the XML declaration's
 * `encoding`, else UTF-8 (XML's default). The header wins as XML 1.0 (appendix F) has it.
 * Bytes invalid in that charset fail with CONN_CHARSET instead of reaching the records as
 * U+FFFD; the check is the REST connector's (`decodeText`), not a copy of it.
 */
import iconv from 'iconv-lite';
import { JunctionError } from '../../config/errors.js';
import { decodeText, responseCharset } from '../rest/decode.js';

/** `<?xml version="1.0" encoding="GBK"?>`: the declaration is ASCII in every charset it can name. */
const DECLARED = /^\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][\w.:-]*)["']/;

const BOMS: [number[], string][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

/** The charset `bytes` are in, by header, byte-order mark, XML declaration, or UTF-8. */
export function xmlCharset(bytes: Uint8Array, contentType: string | null): string {
  const header = responseCharset(contentType);
  if (header) return header;
  for (const [mark, name] of BOMS) if (mark.every((b, i) => bytes[i] === b)) return name;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 256)).toString('latin1');
  return DECLARED.exec(head)?.[1]?.toLowerCase() ?? 'utf-8';
}

export interface XmlDecodeContext {
  source: string;
  /** What the document is, for messages: `SOAP response`, `WSDL or schema document`. */
  what: string;
  /** Masked in the excerpt of an error's details. */
  secrets: readonly string[];
}

/** `bytes` as text in their charset; CONN_CHARSET when it is unknown or the bytes are not valid in it. */
export function decodeXml(bytes: Uint8Array, contentType: string | null, ctx: XmlDecodeContext): string {
  const encoding = xmlCharset(bytes, contentType);
  if (!iconv.encodingExists(encoding)) {
    throw new JunctionError('CONN_CHARSET', `${ctx.what}: unknown charset ${JSON.stringify(encoding)}`, {
      where: { source: ctx.source },
      details: { encoding, contentType },
    });
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeText(buffer, { source: ctx.source, path: ctx.what, encoding, secrets: ctx.secrets });
}
