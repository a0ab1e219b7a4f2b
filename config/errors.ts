/**
 * The one catalogue of Junction's error codes. Every `JunctionError` carries one of these;
 * `test/config/errors.test.ts` checks that the README's error table lists exactly these.
 * Codes are stable: rename never, add freely. Prefixes name the area.
 */
export const ERROR_CODES = {
  // configuration files (config/junction.yaml and mappings)
  CFG_YAML_SYNTAX: 'the file is not valid YAML',
  CFG_FILE_NOT_FOUND: 'a config or mapping file does not exist or cannot be read',
  CFG_FILE_TOO_LARGE: 'a config or mapping file over 1 MiB',
  CFG_ENCODING: 'a config or mapping file that is not UTF-8 (UTF-16, or Latin-1 bytes), with the position of the first bad byte',
  CFG_UNKNOWN_KEY: 'a key that the schema does not define (objects are strict)',
  CFG_INVALID_TYPE: 'a value of the wrong type',
  CFG_INVALID_VALUE: 'a value of the right type that is not allowed (range, pattern, enum)',
  CFG_MISSING_KEY: 'a required key is absent',
  CFG_UNKNOWN_KIND: 'an unknown `type:` in a discriminated union',
  CFG_ENV_MISSING: 'a `${VAR}` reference to an environment variable that is not set',
  CFG_BAD_CRON: 'a schedule whose cron expression or time zone is invalid',
  CFG_DUPLICATE_NAME: 'two entries with the same name (sources, schedules, YAML keys)',
  CFG_UNKNOWN_REF: 'a reference to a source, stream, mapping or schedule that is not declared',
  CFG_VERSION: 'a missing or unsupported `version:`',
  CFG_SCHEMA_STALE: 'config/junction.schema.json does not match the zod schema',
  CFG_DEMO_ONLY: "a hub started outside the demo (without `--demo`) with the secrets config/junction.yaml publishes as defaults, or with gateway.demo_shop on",
  // mappings: checked at load (positioned in the mapping file) and per record while mapping
  MAP_UNKNOWN_FIELD: 'a mapped field that the target entity does not have (pipelines/model.ts)',
  MAP_TYPE_MISMATCH: "a helper or value that does not fit the target field's type (normalize: phone on a datetime, parse: datetime on a decimal, a default of the wrong type)",
  MAP_BAD_ENUM: "an enum map output or default outside the target field's allowed values",
  MAP_UNKNOWN_SOURCE: 'a mapping whose source or stream is not declared in the config',
  MAP_UNKNOWN_IDENTITY: 'an identity kind that config identity.kinds does not declare',
  MAP_EXPR_SYNTAX: 'a JSONata expression (or from: path) that does not parse; the position is inside the expression',
  MAP_BAD_FORMAT: 'a datetime format that cannot read the values it describes (mm where MM was meant, moment.js tokens, hh without a, no day)',
  MAP_MISSING_TIMEZONE: 'a datetime format without a zone token and no timezone: for its values',
  MAP_EVAL_FAILED: 'an expression threw while mapping a record (the record fails, the batch goes on)',
  MAP_BAD_VALUE: "a record's value that the field's helpers cannot convert (unparsable datetime, bad number, unmapped enum value)",
  MAP_MISSING_KEY: "a record whose key expression gives no value",
  MAP_RECORD_TOO_DEEP: 'a source record nested deeper than 64 levels (broken or hostile): connectors cut it there, and the map stage dead-letters it with what was kept',
  // identity resolution and the unified view
  ID_LOAD_REFUSED: "a record PostgreSQL refused (SQLSTATE class 22 or 23) when its batch was loaded again in halves down to single records; the record is a dead letter, the batch goes on",
  ID_INVALID_VALUE: 'a mapped value that does not fit its unified column (type, enum, field unknown to the model); the record fails, the batch goes on',
  ID_NOT_FOUND: 'no customer matches the id, email, phone or source record given',
  ID_UNMERGE_REFUSED: "an unmerge of a record that is not the customer's, or of its only record",
  ID_TRUTH_INVALID: 'a ground-truth CSV for customers evaluate without the columns source,stream,source_key,person_id',
  ID_REGION_UNSETTLED: 'the customers a batch reaches did not settle under its locks (a customer merged away still holds records or identity rows, or workers keep merging the same customers): the batch fails and is retried instead of waiting for ever; the message names them',
  ID_BAD_ID: 'a customer id that is not digits, or is past the largest PostgreSQL bigint (9223372036854775807); unmerge also refuses ids past 2^53 - 1',
  // the local stack
  STACK_PORT_TAKEN: 'a port the stack needs is already used by another process',
  STACK_MISSING_BINARY: 'a program the stack needs is not installed',
  STACK_START_FAILED: 'a service did not start or did not become ready in time',
  STACK_NOT_RUNNING: 'a command needs a stack service that is not running',
  STACK_BUSY: 'another `junction stack up` or `down` on the same data folder did not finish in time (one runs at a time)',
  STACK_AUTH_FAILED: "the hub's PostgreSQL or ClickHouse refused the credentials of its JUNCTION_*_URL",
  // migrations
  MIG_FAILED: 'a migration statement failed; nothing after it ran',
  MIG_CHECKSUM: 'an applied migration file was changed after it ran',
  MIG_PENDING: 'the hub database lacks a table or schema that a migration creates: run `junction migrate`',
  // connectors (reading sources and live lookups)
  CONN_UNREACHABLE: 'the source does not answer (connection refused, reset, DNS); retryable',
  CONN_TIMEOUT: 'the source did not answer within the timeout; retryable',
  CONN_AUTH_FAILED: 'the source refused the credentials or the signature; not retryable',
  CONN_PERMISSION: 'the credentials work but may not read this table, collection or operation',
  CONN_RATE_LIMITED: 'the source asked to slow down (HTTP 429 or its own code); retried after a back-off',
  CONN_HTTP_ERROR: 'an HTTP error status or an HTML error page instead of data',
  CONN_API_ERROR: 'the response envelope carries an error code (e.g. HTTP 200 with code != 0)',
  CONN_BAD_RESPONSE: 'a response that cannot be parsed: truncated JSON, malformed XML, missing record path',
  CONN_CHARSET: 'a response that is not valid text in the declared charset',
  CONN_XML_REFUSED: 'an XML response with a DTD or entity declarations (XXE, entity expansion) was refused',
  CONN_SOAP_FAULT: 'the SOAP service answered with a fault (faultcode and faultstring kept)',
  CONN_QUERY_FAILED: 'the database rejected the query (SQLSTATE or ORA- code kept)',
  CONN_UNSAFE_PARAM: 'a lookup parameter that is not a plain scalar (operator object, SQL fragment in an identifier)',
  CONN_UNKNOWN_STREAM: 'a stream that the source does not declare',
  CONN_UNKNOWN_LOOKUP: 'a lookup that the source does not declare, or a missing parameter',
  CONN_SOURCE_DISABLED: 'the source is disabled in config (e.g. ORACLE_URL is not set)',
  CONN_ABORTED: 'reading was cancelled',
  CONN_CURSOR: 'a checkpoint or cursor value that does not fit the stream (wrong type, unparsable time)',
  // sync pipelines
  SYNC_NO_MAPPING: 'no mapping file in the config reads this source stream',
  SYNC_BATCH_FAILED: 'a batch could not be committed; its checkpoint was not advanced, so a re-run re-reads it',
  SYNC_BAD_RANGE: 'a backfill without a start, from/to given to a sync that is not a backfill, or from after to',
  SYNC_LOCK_LOST: "the worker lost its stream's lock (it stalled past the lock's expiry); the batch was rolled back and the job is retried",
  SYNC_RUN_ABANDONED: 'a run stayed running with no sign of life from its process (killed, or cut off from PostgreSQL); the scheduler marked it failed. Its committed batches stay; sync again to go on',
  SYNC_HUB_FAILED: "the hub's own PostgreSQL, Redis or ClickHouse failed outside a batch (connection lost, timeout); retried unless the error is permanent",
  SYNC_SOURCE_DOWN: "the job waited longer than pipelines.circuit.give_up_ms for its source's circuit to close, and the probe failed again; the last source error is in the message",
  SYNC_INTERNAL: 'an unexpected error in the pipeline code (a bug); the job fails without retries',
  SYNC_DEAD_LETTER_NOT_FOUND: 'no dead letter has this id (`junction dlq list` shows them)',
  SYNC_CLICKHOUSE_FAILED: "a batch's rows (or a run's state) could not be inserted into ClickHouse; the batch stays committed in PostgreSQL and its outbox entry stays, sent first by the stream's next run or the job's retry. Retryable when ClickHouse is unreachable or overloaded; a missing table or column means `junction migrate` was not run",
  // scheduled jobs (jobs/)
  JOB_UNKNOWN_SCHEDULE: 'a schedule name that the config does not declare (the known ones are listed)',
  JOB_TICK_SKIPPED: "a schedule tick was skipped because a job of its stream was still waiting or running (recorded as a 'skipped' run)",
  JOB_ENQUEUE_FAILED: 'a sync job could not be added to the queue (Redis unreachable); retryable',
  JOB_RUN_FAILED: 'the sync job that `schedules run --wait` waited for failed; its reason is shown',
  JOB_WAIT_TIMEOUT: '`junction sync --timeout` passed before the job finished; the job stays in the queue',
  JOB_SCHEMA_MISSING: 'the hub database lacks the jobs tables (hub.schedule_state, hub.schedule_tick): run `junction migrate`',
  // ops API (/api/ops, /ops/queues, /metrics)
  OPS_NO_TOKEN: 'no ops.admin_token is configured, so the ops API, queue board and /metrics answer 503',
  OPS_UNAUTHORIZED: 'the request has no admin token, or a wrong one (HTTP 401)',
  OPS_BAD_REQUEST: 'a request body, query or path parameter that does not validate or cannot be read (malformed JSON, a NUL character, bad percent-encoding); the message names the field (HTTP 400; 413 for a body over the limit)',
  OPS_UNSUPPORTED_MEDIA_TYPE: 'a request body that is not JSON (its Content-Type is named), or in a charset or content encoding the server does not read (HTTP 415)',
  OPS_NOT_FOUND: 'no run, dead letter or route with that id or path (HTTP 404)',
  OPS_NOT_READY: '/readyz: PostgreSQL or Redis does not answer (HTTP 503, naming which)',
  OPS_INTERNAL: 'an unexpected error while answering an ops request (HTTP 500); the server log has the details',
  // the chat gateway (HTTP status or WebSocket close code in gateway/PROTOCOL.md)
  GW_AUTH_REQUIRED: 'no token at the WebSocket upgrade or on an API call that needs one (HTTP 401)',
  GW_TOKEN_INVALID: "a token that is malformed or whose signature does not verify, or an agent's token signed before the agent moved to another team (renew it at POST /api/auth/refresh) (HTTP 401)",
  GW_TOKEN_EXPIRED: 'a token past its expiry: log in again or renew the visitor session (HTTP 401)',
  GW_BAD_CREDENTIALS: 'an agent login with an unknown email or a wrong password (HTTP 401)',
  GW_AGENT_DISABLED: 'the agent is disabled (junction agents disable): login and upgrade refused (HTTP 403), open sockets closed with 4403',
  GW_AGENT_EXISTS: 'junction agents add with an email that already has an agent',
  GW_AGENT_NOT_FOUND: 'no agent with that email or id',
  GW_TEAM_NOT_FOUND: 'a transfer to a team that no enabled agent, routing rule or gateway.default_team names',
  GW_AGENT_INVALID: 'junction agents add with an empty or malformed email, an empty name, a team name outside a-z, 0-9 and _, or a password shorter than 8 characters',
  GW_ORIGIN_REFUSED: "the upgrade's Origin header is neither in gateway.allowed_origins nor the gateway's own origin (HTTP 403)",
  GW_BAD_IDENTITY_SIGNATURE: 'a visitor identity claim without a valid HMAC signature or with a timestamp outside the allowed skew; never trusted (HTTP 401)',
  GW_BAD_REQUEST: 'a REST request whose body or parameters do not fit the API, or a WebSocket upgrade whose request target does not parse (HTTP 400)',
  GW_BAD_FRAME: 'a WebSocket frame that is not JSON, does not fit its type (a NUL in a stored text included), or is not hello when hello is due: closes with 4400; a message the database refuses to store answers GW_BAD_FRAME (not retryable) without closing',
  GW_UNKNOWN_TYPE: 'a WebSocket frame whose type the protocol does not define; closes with 4404',
  GW_FRAME_TOO_BIG: 'a WebSocket frame larger than gateway.max_payload_bytes; closes with 1009',
  GW_RATE_LIMITED: 'a socket sent frames faster than gateway.rate_limit allows; closes with 4408',
  GW_FORBIDDEN: 'an action the role may not take (a visitor transferring, an agent starting a conversation)',
  GW_CONVERSATION_NOT_FOUND: 'no such conversation, or one the caller may not see (existence is not revealed; HTTP 404)',
  GW_CONVERSATION_CLOSED: 'a message, transfer or close on a conversation that is closed',
  GW_STORE_UNAVAILABLE: 'a message could not be stored (PostgreSQL failing); it was not acked: resend it with the same clientMsgId',
  GW_TOO_MANY_SOCKETS: 'the agent or visitor already holds gateway.max_sockets_per_participant sockets on this instance: upgrade refused (HTTP 429)',
  GW_SHUTTING_DOWN: 'the instance is shutting down: upgrades refused (HTTP 503), sockets closed with 1012; reconnect to another instance',
  GW_INTERNAL: 'an unexpected gateway failure (logged with its cause); closes with 1011 when it hits a socket',
  GW_CUSTOMER_NOT_LINKED: 'the conversation is not linked to a unified customer, so it has no context panel (HTTP 404)',
  GW_LOOKUP_TIMEOUT: 'a live lookup of the context panel did not answer within its timeout_ms; its part is sent stale',
  GW_LOOKUP_CIRCUIT_OPEN: "a live lookup was not tried because its source's circuit breaker is open; its part is sent stale",
  GW_LOOKUP_FAILED: 'a live lookup failed in an unexpected way (not a connector error); its part is sent stale',
  GW_LOOKUP_RATE_LIMITED: "a live lookup was not tried because its source's rate_limit window, shared with the sync workers, had no request left; its part is sent stale, and the source's circuit does not count it as a failure",
  GW_WEB_NOT_BUILT: 'a page of the web UI was asked for but gateway/web/dist is missing: run npm run web:build (npm run demo and npm test build it) (HTTP 503)',
  GW_ANALYTICS_FAILED: 'chat rows could not be sent to ClickHouse; kept in memory and retried (the oldest dropped beyond analytics.max_buffer_rows); chat is not affected',
  // the command line (bin/)
  CLI_USAGE: 'the command line was refused (unknown command or option, missing or bad argument); the usage error is on stderr',
  CLI_INTERNAL: 'a command failed in a way nothing classified (a bug); its stack is on stderr',
  // the demo estate
  DEMO_SEED_FAILED: 'the demo seed generator could not write a source',
  DEMO_HUB_NOT_READY: "the demo's hub process (worker, scheduler, ops API) did not answer /readyz in time; its log tail is shown",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error came from: a file position, a source and key, a frame type… */
export interface ErrorWhere {
  file?: string;
  line?: number;
  col?: number;
  /** Dotted path inside the document, e.g. `sources.shop_pg.streams.accounts.cursor`. */
  path?: string;
  source?: string;
  key?: string;
}

export interface JunctionErrorOptions {
  cause?: unknown;
  where?: ErrorWhere;
  /** Extra fields kept from the origin (ORA- code, SOAP fault, pg SQLSTATE…). */
  details?: Record<string, unknown>;
  /** Whether trying again later can succeed (network, timeouts, rate limits). @defaultValue false */
  retryable?: boolean;
}

/** An error with a stable code from {@link ERROR_CODES} and where it came from. */
export class JunctionError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorWhere | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: JunctionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JunctionError';
    this.code = code;
    this.where = options.where;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }

  /** `file:line:col path: message [CODE]`, the form every CLI prints. */
  format(): string {
    return `${formatWhere(this.where)}${printable(this.message, true)} [${this.code}]`;
  }
}

/** `file:line:col path: ` or an empty string when nothing is known. */
export function formatWhere(where: ErrorWhere | undefined): string {
  if (!where) return '';
  const pos = where.file
    ? [where.file, where.line, where.col].filter((p) => p !== undefined).join(':')
    : '';
  const subject = where.source ? `${where.source}${where.key ? ` key=${where.key}` : ''}` : '';
  const head = [pos, where.path ?? '', subject].filter(Boolean).join(' ');
  return head ? `${printable(head)}: ` : '';
}

/**
 * Control characters as `\u001b` escapes: a YAML key or a record key holding terminal escape
 * sequences must not clear or recolour the terminal of whoever reads the error. `keepLines`:
 * line breaks and tabs stay (a message may quote a log's last lines).
 */
function printable(text: string, keepLines = false): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (keepLines && (c === '\n' || c === '\t') ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

export function isJunctionError(err: unknown): err is JunctionError {
  return err instanceof JunctionError;
}
