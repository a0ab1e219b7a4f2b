/**
 * JSON calls to the gateway's and the ops server's REST APIs. Both answer errors as
 * `{ error: { code, message } }`; an {@link ApiError} keeps the stable code so a page can
 * react to it (GW_TOKEN_EXPIRED → the login form) and show the message as it came.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The token is missing, wrong or expired: the page should ask to log in again. */
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

export interface ApiOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | null;
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Origin of the API. @defaultValue '' (the page's own origin) */
  base?: string;
  signal?: AbortSignal;
}

export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${options.base ?? ''}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached; check the connection');
  }
  const json = (await res.json().catch(() => null)) as ({ error?: { code?: string; message?: string } } & Record<string, unknown>) | null;
  if (!res.ok) {
    const code = json?.error?.code ?? res.headers.get('x-junction-error') ?? `HTTP_${res.status}`;
    throw new ApiError(res.status, code, json?.error?.message ?? res.statusText);
  }
  return json as T;
}
