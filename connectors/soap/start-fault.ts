/**
 * A start the caller chose (`read --since X`, a backfill's `--from X`) that the service
 * refuses: the demo's order service answers `--since 1700000000` with a Client fault "since
 * must be an xs:dateTime". The stream's config declares no type for its cursor, so the start
 * is not checked before the call; the service's fault on the first call is turned into
 * CONN_CURSOR when it is about the start: a Client (SOAP 1.2 Sender) fault, the request's
 * fault, whose text names an argument the start is sent in. Any other fault (a Server fault,
 * one naming `pageSize`, a later page's) stays CONN_SOAP_FAULT.
 */
import { JunctionError, isJunctionError } from '../../config/errors.js';
import type { Checkpoint } from '../types.js';
import { faultClass } from './errors.js';
import type { ArgValue } from './templates.js';

/** Placeholders a start is sent in: `{{cursor}}`, and `{{window.since}}` of the first window. */
const START_PLACEHOLDER = /\{\{\s*(cursor|window\.since)\s*\}\}/;

/** The arguments of `args` whose value holds the start. */
function startArguments(args: Record<string, ArgValue>): string[] {
  return Object.entries(args)
    .filter(([, template]) => typeof template === 'string' && START_PLACEHOLDER.test(template))
    .map(([name]) => name);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first of `names` that `text` mentions as a word (`since`, not `listOrdersUpdatedSince`). */
function named(text: string, names: string[]): string | undefined {
  return names.find((name) => new RegExp(`(^|[^\\w])${escape(name)}([^\\w]|$)`, 'i').test(text));
}

export interface StartRead {
  source: string;
  stream: string;
  operation: string;
  args: Record<string, ArgValue>;
  /** The cursor field, for the message. */
  cursor: string | undefined;
}

/**
 * CONN_CURSOR for the first call of a read from `start` when `err` is the service refusing
 * that start (see the module comment); undefined for any other failure, which stays as it was.
 */
export function startRefused(err: unknown, read: StartRead, start: Checkpoint): JunctionError | undefined {
  if (!isJunctionError(err) || err.code !== 'CONN_SOAP_FAULT') return undefined;
  const { faultcode, faultstring } = (err.details ?? {}) as { faultcode?: unknown; faultstring?: unknown };
  if (typeof faultcode !== 'string' || typeof faultstring !== 'string') return undefined;
  const cls = faultClass(faultcode);
  if (cls !== 'Client' && cls !== 'Sender') return undefined;
  const argument = named(faultstring, startArguments(read.args));
  if (argument === undefined) return undefined;
  return new JunctionError(
    'CONN_CURSOR',
    `stream ${read.stream}: the start ${String(start.cursor)} does not fit its cursor${read.cursor === undefined ? '' : ` (${read.cursor})`}: ${read.operation} refused it in argument ${argument} with SOAP fault ${faultcode}: ${faultstring}`,
    { cause: err, where: { source: read.source }, details: { ...err.details, checkpoint: start, operation: read.operation, argument } },
  );
}
