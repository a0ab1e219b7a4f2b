/**
 * The SOAP connector: one `soap` client per source, created on first use from the WSDL and
 * reused; the WSDL fetch and every call have a deadline and go through the guarded HTTP client.
 */
import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pRetry from 'p-retry';
import soap from 'soap';
import { JunctionError } from '../../config/errors.js';
import type { Logger } from '../../config/log.js';
import type { Batch, Checkpoint, CheckResult, Connector, LookupOptions, LookupResult, ReadOptions, StreamInfo } from '../types.js';
import { classifySoapError, type AbortReason } from './errors.js';
import { guardedHttp } from './http.js';
import { recordsAt, resultRecord, XSD_DESERIALIZERS } from './records.js';
import { cursorFields, readSoapStream, type SoapStreamOptions } from './reader.js';
import { lookupParam, renderArgs, type ArgValue } from './templates.js';
import { describedAt, describedFields, operations, pathProblem } from './wsdl-fields.js';
import { guardXml } from './xml-guard.js';
import { untilAborted } from '../abort.js';
import { basicCredentials } from '../basic-auth.js';

export interface SoapLookupOptions {
  operation: string;
  args: Record<string, ArgValue>;
  params: string[];
  timeout_ms: number;
  record_path?: string | undefined;
}

export type SoapAuth =
  | { type: 'basic'; username: string; password: string }
  | { type: 'wsse'; username: string; password: string; password_type: 'text' | 'digest' };

/** A SOAP source as the connector needs it (its resolved config). */
export interface SoapConnectorOptions {
  /** `http(s)://…?wsdl` or `file:///…/service.wsdl`. */
  wsdl: string;
  /** Overrides the WSDL's service address. */
  endpoint?: string | undefined;
  auth?: SoapAuth | undefined;
  /** Deadline of one call (WSDL fetch, page). Lookups have their own. */
  timeout_ms: number;
  /** Cap on one response or WSDL document. @defaultValue 16 MiB */
  max_response_bytes: number;
  streams: Record<string, SoapStreamOptions>;
  lookups: Record<string, SoapLookupOptions>;
}

/** Retries of one page call on a retryable failure; lookups are not retried (agent waiting). */
const PAGE_RETRIES = 2;
const ENVELOPE = /<([\w.-]+:)?Envelope[\s>]/;
/** A Body holding an element (comments and blanks before it allowed). */
const BODY_ELEMENT = /<([\w.-]+:)?Body\b[^>]*>(?:\s|<!--[\s\S]*?-->)*<[A-Za-z_]/;

/** A stream or lookup whose records are at `record_path` of `operation`'s response. */
interface RecordPathUse {
  kind: 'stream' | 'lookup';
  name: string;
  operation: string;
  record_path: string;
}

type AsyncMethod = (args: unknown, options: unknown) => Promise<[unknown, unknown]>;

export class SoapConnector implements Connector {
  readonly type = 'soap';
  private client: Promise<soap.Client> | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  /** Record paths found in a client's WSDL (`stream:orders`), so each is looked up once. */
  private readonly pathsFound = new WeakMap<soap.Client, Set<string>>();

  constructor(
    readonly source: string,
    private readonly options: SoapConnectorOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Fetches and parses the WSDL (guarded), applies auth. `signal` aborts the fetches (the
   * WSDL and its imports), closing their sockets.
   */
  private async createClient(signal: AbortSignal): Promise<soap.Client> {
    const { wsdl, auth, timeout_ms: timeout, max_response_bytes: maxBytes } = this.options;
    const secrets = auth ? [auth.password, ...(auth.type === 'basic' ? [basicCredentials(auth.username, auth.password)] : [])] : [];
    const request = guardedHttp({ source: this.source, maxBytes, httpAgent: this.httpAgent, httpsAgent: this.httpsAgent, secrets });
    let location = wsdl;
    if (wsdl.startsWith('file:')) {
      location = fileURLToPath(wsdl);
      // The `soap` package reads files itself, past the HTTP guard: check the bytes first.
      guardXml(await readFile(location, { signal }), maxBytes, { source: this.source, what: 'WSDL' });
    }
    const basic = auth?.type === 'basic' ? { Authorization: `Basic ${basicCredentials(auth.username, auth.password)}` } : undefined;
    const client = await soap.createClientAsync(
      location,
      {
        request: request as never,
        customDeserializer: XSD_DESERIALIZERS,
        // Text values as sent: without it the package trims them ("  Mr. Wang " → "Mr. Wang",
        // a blank contactPhone → ""). Blanks between elements still make no value: the package
        // keeps them only for an element typed xsd:string that holds no child.
        preserveWhitespace: true,
        // The package's cache is global and keyed by URL only; a connector keeps its own client.
        disableCache: true,
        // `timeout` is axios' idle timeout: a WSDL trickling a byte at a time never meets it.
        // The signal is the overall deadline; the package passes both on to axios.
        wsdl_options: { timeout, signal },
        ...(basic ? { wsdl_headers: basic } : {}),
      },
      this.options.endpoint,
    );
    if (auth?.type === 'basic') client.setSecurity(new soap.BasicAuthSecurity(auth.username, auth.password));
    if (auth?.type === 'wsse') {
      client.setSecurity(
        new soap.WSSecurity(auth.username, auth.password, { passwordType: auth.password_type === 'digest' ? 'PasswordDigest' : 'PasswordText' }),
      );
    }
    return client;
  }

  /**
   * A client read within `timeout_ms`, or CONN_TIMEOUT; every failure is classified as the
   * WSDL's. The deadline is overall: without it a slow WSDL answer would leave the shared
   * client pending for good, and every later call would wait on it instead of fetching the
   * WSDL again.
   */
  private async createClientWithin(deadline: AbortSignal): Promise<soap.Client> {
    try {
      return await untilAborted(this.createClient(deadline), deadline);
    } catch (err) {
      throw this.wsdlError(err, deadline);
    }
  }

  private wsdlError(err: unknown, deadline: AbortSignal): JunctionError {
    return classifySoapError(err, `${this.source} WSDL`, { source: this.source }, deadline.aborted ? 'timeout' : undefined, this.options.timeout_ms);
  }

  /** The shared client; a failed or timed-out creation is forgotten so the next call tries again. */
  private getClient(): Promise<soap.Client> {
    if (!this.client) {
      const created = this.createClientWithin(AbortSignal.timeout(this.options.timeout_ms));
      this.client = created;
      created.catch(() => {
        if (this.client === created) this.client = undefined;
      });
    }
    return this.client;
  }

  /**
   * CONN_BAD_RESPONSE when `use.record_path` is not in the WSDL's description of the
   * operation's response: a wrong path would read as an empty source, every sync "succeeding"
   * with no records. Paths the description cannot judge (see `pathProblem`) pass.
   */
  private recordPathError(client: soap.Client, use: RecordPathUse): JunctionError | undefined {
    let described: unknown;
    try {
      described = client.describe();
    } catch {
      // A WSDL the package can call but not describe cannot judge a path; the calls worked before this check.
      return undefined;
    }
    const problem = pathProblem(operations(described).get(use.operation)?.output, use.record_path);
    if (problem === undefined) return undefined;
    return new JunctionError('CONN_BAD_RESPONSE', `${use.kind} ${use.name}: record_path ${use.record_path} is not in the WSDL's ${use.operation} response: ${problem}`, {
      where: { source: this.source },
      details: { [use.kind]: use.name, operation: use.operation, recordPath: use.record_path },
    });
  }

  /** Checks `use`'s record path against `client`'s WSDL on its first use. */
  private checkRecordPath(client: soap.Client, use: RecordPathUse): void {
    const found = this.pathsFound.get(client) ?? new Set<string>();
    this.pathsFound.set(client, found);
    const id = `${use.kind}:${use.name}`;
    if (found.has(id)) return;
    const err = this.recordPathError(client, use);
    if (err) throw err;
    found.add(id);
  }

  /** One operation call with a deadline; errors classified. */
  private async call(
    operation: string,
    args: Record<string, ArgValue>,
    timeoutMs: number,
    caller: AbortSignal | undefined,
    use?: RecordPathUse,
  ): Promise<unknown> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = caller ? AbortSignal.any([caller, deadline]) : deadline;
    const what = `${this.source} ${operation}`;
    try {
      const client = await untilAborted(this.getClient(), signal);
      const method = (client as unknown as Record<string, AsyncMethod | undefined>)[`${operation}Async`];
      if (typeof method !== 'function') {
        throw new JunctionError('CONN_BAD_RESPONSE', `the WSDL of ${this.source} has no operation ${operation}`, {
          where: { source: this.source },
          details: { operation },
        });
      }
      if (use) this.checkRecordPath(client, use);
      const [result, raw] = await method.call(client, args, { timeout: timeoutMs, signal });
      // An HTTP 200 page that happens to parse as XML is not an answer.
      if (typeof raw === 'string' && !ENVELOPE.test(raw)) {
        throw new JunctionError('CONN_BAD_RESPONSE', `${what}: the response is not a SOAP envelope`, { where: { source: this.source } });
      }
      // The `soap` package hands back the whole envelope for an empty Body ({"Body": null}),
      // and nothing when the Body holds another element than the operation's response: neither
      // is an answer, and as one they read as an empty page or a record of nothing.
      if (typeof raw === 'string' && !BODY_ELEMENT.test(raw)) {
        throw new JunctionError('CONN_BAD_RESPONSE', `${what}: the SOAP Body is empty`, { where: { source: this.source }, details: { operation } });
      }
      if (result === undefined) {
        throw new JunctionError('CONN_BAD_RESPONSE', `${what}: the SOAP Body has no ${operation} response element`, { where: { source: this.source }, details: { operation } });
      }
      return result;
    } catch (err) {
      const reason: AbortReason | undefined = caller?.aborted ? 'aborted' : deadline.aborted ? 'timeout' : undefined;
      throw classifySoapError(err, what, { source: this.source }, reason);
    }
  }

  async check(): Promise<CheckResult> {
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    const deadline = AbortSignal.timeout(this.options.timeout_ms);
    try {
      // Always a fresh fetch: a check is about the service now, not a cached WSDL.
      const client = await untilAborted(this.createClient(deadline), deadline);
      this.client = Promise.resolve(client);
      const ops = operations(client.describe());
      const wanted = [...Object.values(this.options.streams), ...Object.values(this.options.lookups)].map((s) => s.operation);
      const missing = [...new Set(wanted)].filter((op) => !ops.has(op));
      if (missing.length > 0) {
        return { ok: false, latencyMs: latencyMs(), detail: `WSDL lacks operation(s) ${missing.join(', ')}`, code: 'CONN_BAD_RESPONSE' };
      }
      const wrong = this.recordPathUses()
        .map((use) => this.recordPathError(client, use)?.message)
        .filter((m): m is string => m !== undefined);
      if (wrong.length > 0) return { ok: false, latencyMs: latencyMs(), detail: wrong.join('; '), code: 'CONN_BAD_RESPONSE' };
      return { ok: true, latencyMs: latencyMs(), detail: `WSDL read; ${ops.size} operation(s), ${new Set(wanted).size} used` };
    } catch (err) {
      const e = this.wsdlError(err, deadline);
      return { ok: false, latencyMs: latencyMs(), detail: e.message, code: e.code };
    }
  }

  /** Every stream's and lookup's record path. */
  private recordPathUses(): RecordPathUse[] {
    const streams = Object.entries(this.options.streams).map(([name, s]): RecordPathUse => ({ kind: 'stream', name, operation: s.operation, record_path: s.record_path }));
    const lookups = Object.entries(this.options.lookups).flatMap(([name, l]): RecordPathUse[] =>
      l.record_path === undefined ? [] : [{ kind: 'lookup', name, operation: l.operation, record_path: l.record_path }],
    );
    return [...streams, ...lookups];
  }

  async discover(): Promise<StreamInfo[]> {
    // getClient's own deadline bounds the wait, and its failures come classified.
    const client = await this.getClient();
    const ops = operations(client.describe());
    return Object.entries(this.options.streams).map(([name, stream]) => {
      // A path the WSDL does not have would list the stream with no fields, as if it had none.
      const wrong = this.recordPathError(client, { kind: 'stream', name, operation: stream.operation, record_path: stream.record_path });
      if (wrong) throw wrong;
      const fields = cursorFields(stream);
      const node = describedAt(ops.get(stream.operation)?.output, stream.record_path);
      const required = [fields.key, ...(fields.cursor ? [fields.cursor] : [])];
      return {
        name,
        key: fields.key,
        cursor: fields.cursor === undefined ? undefined : [fields.cursor, fields.key],
        fields: describedFields(node, required),
      };
    });
  }

  read(stream: string, checkpoint: Checkpoint | null, options: ReadOptions = {}): AsyncIterable<Batch> {
    const def = this.options.streams[stream];
    if (!def) throw new JunctionError('CONN_UNKNOWN_STREAM', `source ${this.source} has no stream ${stream}`, { where: { source: this.source } });
    const page = def.page && 'size' in def.page ? def.page.size : 100;
    const signal = options.signal;
    const use: RecordPathUse = { kind: 'stream', name: stream, operation: def.operation, record_path: def.record_path };
    const callPage = (args: Record<string, ArgValue>) =>
      pRetry(() => this.call(def.operation, args, this.options.timeout_ms, signal, use), {
        retries: PAGE_RETRIES,
        minTimeout: 250,
        factor: 2,
        signal,
        shouldRetry: ({ error }) => error instanceof JunctionError && error.retryable && !signal?.aborted,
        onFailedAttempt: ({ error, retriesLeft }) => {
          if (retriesLeft > 0 && error instanceof JunctionError && error.retryable) {
            this.log.warn({ stream, code: error.code, retriesLeft }, 'SOAP page call failed; retrying');
          }
        },
      }).catch((err: unknown) => {
        if (signal?.aborted) throw new JunctionError('CONN_ABORTED', 'reading was cancelled', { cause: err, where: { source: this.source } });
        throw err;
      });
    // A preview (`--limit 5`) need not ask the service for a full page. The page size is
    // the service's business (its maximum); a batch may span pages or split one.
    const pageSize = Math.min(page, options.limit ?? Infinity);
    const batchSize = Math.min(options.batchSize ?? page, options.limit ?? Infinity);
    return readSoapStream(def, checkpoint, { batchSize, pageSize, limit: options.limit, signal, source: this.source, stream }, callPage);
  }

  async lookup(name: string, params: Record<string, unknown>, options: LookupOptions = {}): Promise<LookupResult> {
    const def = this.options.lookups[name];
    if (!def) throw new JunctionError('CONN_UNKNOWN_LOOKUP', `source ${this.source} has no lookup ${name}`, { where: { source: this.source } });
    const at = { lookup: name, where: { source: this.source } };
    const checked = Object.fromEntries(def.params.map((p) => [p, lookupParam(p, Object.hasOwn(params, p) ? params[p] : undefined, at)]));
    // Without declared args, the declared params are the operation's arguments.
    const template = Object.keys(def.args).length > 0 ? def.args : Object.fromEntries(def.params.map((p) => [p, `{{params.${p}}}`]));
    const args = renderArgs(template, { params: checked });
    const use: RecordPathUse | undefined = def.record_path === undefined ? undefined : { kind: 'lookup', name, operation: def.operation, record_path: def.record_path };
    const result = await this.call(def.operation, args, options.timeoutMs ?? def.timeout_ms, options.signal, use);
    const from = { source: this.source, lookup: name, operation: def.operation };
    if (def.record_path === undefined) return resultRecord(result, from);
    const records = recordsAt(result, def.record_path, from);
    return records.length === 0 ? null : records.length === 1 ? records[0]! : records;
  }

  async close(): Promise<void> {
    this.client = undefined;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
