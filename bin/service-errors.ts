/**
 * The hub's own services (PostgreSQL, Redis, ClickHouse) fail inside a command with their
 * drivers' raw errors: a refused connection, refused credentials, a table that is missing
 * because `junction migrate` never ran. Commands do not catch these one by one: bin/cli.ts
 * asks {@link serviceError} for a coded error that says what to do, and prints its one line
 * instead of a stack. Service URLs appear with their passwords masked.
 */
import { ClickHouseError } from '@clickhouse/client';
import pg from 'pg';
import { urlVariable, type ServiceName, type StackSettings } from '../config/env.js';
import { JunctionError } from '../config/errors.js';
import { isNetworkErrorCode } from '../config/network-codes.js';
import { redact } from '../config/redact.js';
import { urlPasswords } from '../config/secret.js';

const LABELS: Record<ServiceName, string> = {
  postgres: 'PostgreSQL',
  redis: 'Redis',
  clickhouse: 'ClickHouse',
  mongo: 'MongoDB (FerretDB)',
  orders_soap: 'the demo order service',
  tickets_php: 'the demo ticket API',
};

/** Drivers' messages for a server that went away or never answered, without a socket code. */
const LOST: { pattern: RegExp; service: ServiceName }[] = [
  { pattern: /^Connection terminated (due to connection timeout|unexpectedly)$|^timeout expired$/, service: 'postgres' },
  { pattern: /^Connection is closed\.$|^Reached the max retries per request limit/, service: 'redis' },
];

/** SQLSTATEs of what `junction migrate` creates: undefined table, undefined schema. */
const PG_NOT_MIGRATED = new Set(['42P01', '3F000']);
/** SQLSTATEs of refused credentials: invalid password, invalid authorization (unknown role, pg_hba). */
const PG_AUTH = new Set(['28P01', '28000']);
/** ClickHouse codes: UNKNOWN_TABLE, UNKNOWN_DATABASE. */
const CH_NOT_MIGRATED = new Set(['60', '81']);
/** ClickHouse codes: UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED. */
const CH_AUTH = new Set(['192', '193', '194', '516']);

interface SocketError extends Error {
  code?: string;
  port?: number;
  errors?: unknown[];
}

/**
 * STACK_NOT_RUNNING for the service `what` (a label with its URL) that did not answer, `why`
 * being the driver's reason; `safe` masks the passwords the message could hold.
 */
export function serviceNotAnswering(what: string, why: string, variable: string, cause: unknown, safe: (text: string) => string): JunctionError {
  return new JunctionError('STACK_NOT_RUNNING', safe(`${what} does not answer (${why}): start the stack (junction stack up) or set ${variable}`), { cause });
}

/**
 * A coded error for a raw failure of one of the hub's services, or undefined when `err` (and
 * its causes) is not one. The codes: STACK_NOT_RUNNING (does not answer), STACK_AUTH_FAILED
 * (refused the credentials), MIG_PENDING (tables missing: run `junction migrate`).
 */
export function serviceError(err: unknown, settings: StackSettings): JunctionError | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth += 1, e = e.cause) {
    const found = translate(e, settings);
    if (found) return found;
  }
  return undefined;
}

function translate(e: Error, settings: StackSettings): JunctionError | undefined {
  const safe = (text: string) => redact(text, passwords(settings));
  const at = (name: ServiceName) => `${LABELS[name]} at ${safe(settings.services[name].url)}`;
  const notAnswering = (name: ServiceName, why: string) => serviceNotAnswering(at(name), why, urlVariable(name), e, safe);

  if (e instanceof pg.DatabaseError && e.code) {
    const why = `${e.message} (SQLSTATE ${e.code})`;
    const details = { sqlstate: e.code };
    if (PG_NOT_MIGRATED.has(e.code)) return new JunctionError('MIG_PENDING', safe(`the hub database lacks what a migration creates: ${why}; run junction migrate`), { cause: e, details });
    if (PG_AUTH.has(e.code)) return new JunctionError('STACK_AUTH_FAILED', safe(`${at('postgres')} refused the credentials: ${why}; fix ${urlVariable('postgres')}`), { cause: e, details });
    if (e.code === '3D000') {
      const fix = `junction stack up creates the hub's databases; on a server of your own, create it or fix ${urlVariable('postgres')}`;
      return new JunctionError('STACK_NOT_RUNNING', safe(`${at('postgres')}: ${why}: ${fix}`), { cause: e, details });
    }
    // Starting up or shutting down: as good as not running.
    if (e.code === '57P03') return notAnswering('postgres', why);
    return undefined;
  }

  const clickhouse = clickhouseCode(e);
  if (clickhouse) {
    const why = `${clickhouse.text} (ClickHouse code ${clickhouse.code})`;
    if (CH_NOT_MIGRATED.has(clickhouse.code)) return new JunctionError('MIG_PENDING', safe(`the hub's ClickHouse lacks what a migration creates: ${why}; run junction migrate`), { cause: e });
    if (CH_AUTH.has(clickhouse.code)) return new JunctionError('STACK_AUTH_FAILED', safe(`${at('clickhouse')} refused the credentials: ${why}; fix ${urlVariable('clickhouse')}`), { cause: e });
    return undefined;
  }

  const socket = e as SocketError;
  if (isNetworkErrorCode(socket.code)) {
    // Node reports a refused `localhost` (IPv4 and IPv6 tried) as an AggregateError of both.
    const inner = (socket.errors ?? []).filter((x): x is SocketError => x instanceof Error);
    const why = socket.message || inner.map((x) => x.message).join('; ') || socket.code;
    const name = serviceOnPort(settings, socket.port ?? inner[0]?.port);
    if (name) return notAnswering(name, why);
    return new JunctionError('STACK_NOT_RUNNING', safe(`a service does not answer (${why}): junction stack status shows which`), { cause: e });
  }

  const lost = LOST.find((l) => l.pattern.test(e.message));
  return lost ? notAnswering(lost.service, e.message) : undefined;
}

/** The server's code and text of a ClickHouse error (current servers, and 18.16's `Code: 60, e.displayText() = …`). */
function clickhouseCode(e: Error): { code: string; text: string } | undefined {
  if (e instanceof ClickHouseError) return { code: e.code, text: e.message.trim() };
  const old = /^Code: (\d+)[.,].*?DB::Exception: (.*?)(?:, e\.what\(\) = .*)?$/s.exec(e.message.trim());
  return old ? { code: old[1]!, text: old[2]!.trim() } : undefined;
}

/** The service whose URL names `port` (with the scheme's default when the URL has none). */
function serviceOnPort(settings: StackSettings, port: number | undefined): ServiceName | undefined {
  if (port === undefined) return undefined;
  const defaults: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'http:': 80, 'https:': 443, 'mongodb:': 27017 };
  return (Object.keys(settings.services) as ServiceName[]).find((name) => {
    try {
      const url = new URL(settings.services[name].url);
      return (Number(url.port) || defaults[url.protocol]) === port;
    } catch {
      return false;
    }
  });
}

/** The passwords of the service URLs, decoded as drivers send them. */
export function passwords(settings: StackSettings): string[] {
  return Object.values(settings.services).flatMap((s) => urlPasswords(s.url));
}
