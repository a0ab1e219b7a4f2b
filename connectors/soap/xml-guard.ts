/**
 * The XML guard: every SOAP response and every fetched WSDL passes through it as raw text
 * before any XML parser sees it. Documents that declare a DTD or entities are refused
 * outright, so neither external entities (XXE: `file:///etc/passwd`, internal URLs) nor
 * entity-expansion bombs (billion laughs) can reach a parser, whatever that parser's
 * defaults are. SOAP 1.1 forbids a DTD in an envelope anyway, so no honest service is lost.
 */
import { JunctionError } from '../../config/errors.js';

/** The default cap on one response or WSDL document. */
export const DEFAULT_MAX_XML_BYTES = 16 * 1024 * 1024;

/**
 * Markup declarations. XML itself is case-sensitive and allows no space after `<!`, but
 * lenient parsers accept both, so the guard does too. Comments (`<!--`) and CDATA
 * (`<![CDATA[`) do not match. A declaration-like text inside a comment or CDATA section is
 * refused as well: the guard does not parse, and refusing too much is the safe mistake.
 */
const DECLARATION = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)\b/i;

/** Where a refused document came from, for the error message. */
export interface XmlGuardContext {
  source?: string;
  /** `WSDL`, `response to getOrderStatus`… */
  what?: string;
}

/**
 * Throws `CONN_XML_REFUSED` when `text` declares a DTD or entities and `CONN_BAD_RESPONSE`
 * when it exceeds `maxBytes`. Accepts the text as a string or the raw bytes (checked as
 * UTF-8 and, when they carry a UTF-16 byte-order mark or look like UTF-16, as UTF-16 too,
 * so an encoding switch cannot hide a declaration).
 */
export function guardXml(text: string | Uint8Array, maxBytes = DEFAULT_MAX_XML_BYTES, context: XmlGuardContext = {}): void {
  const size = typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.byteLength;
  const what = context.what ?? 'XML document';
  const where = context.source ? { source: context.source } : undefined;
  if (size > maxBytes) {
    throw new JunctionError('CONN_BAD_RESPONSE', `${what} is ${size} bytes, over the ${maxBytes}-byte cap`, {
      where,
      details: { bytes: size, maxBytes },
    });
  }
  for (const candidate of decodings(text)) {
    const match = DECLARATION.exec(candidate);
    if (match) {
      throw new JunctionError(
        'CONN_XML_REFUSED',
        `${what} contains a <!${match[1]!.toUpperCase()} declaration; DTDs and entities are refused (XXE, entity expansion)`,
        { where, details: { declaration: match[1]!.toUpperCase() } },
      );
    }
  }
}

/** The views of the document a parser could take. */
function decodings(text: string | Uint8Array): string[] {
  if (typeof text === 'string') {
    // A string decoded as UTF-8 from UTF-16 bytes keeps NULs between the characters.
    return text.includes('\u0000') ? [text, text.replaceAll('\u0000', '')] : [text];
  }
  const bytes = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  const out = [bytes.toString('utf8')];
  if (bytes.includes(0)) {
    out.push(bytes.toString('utf16le'), swap16(bytes).toString('utf16le'), bytes.toString('latin1').replaceAll('\u0000', ''));
  }
  return out;
}

function swap16(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  return copy.swap16();
}
