/**
 * The relay's HTTP API as the CLI uses it: JSON in and out, and every failure turned into a
 * {@link CliError} with the exit code and a hint (401/403 → 3, 429 → 5, no answer → 4, refused input → 2).
 */
import type { Connection } from './connection.js';
import { CliError, EXIT } from './errors.js';

/** One request. */
export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  /** A raw body (with `contentType`) instead of `json`. */
  body?: string;
  contentType?: string;
  /** Answer undefined on a 404 instead of failing. */
  allow404?: boolean;
}

/** A small client of the relay API. */
export class RelayApi {
  constructor(
    readonly conn: Pick<Connection, 'apiUrl' | 'token' | 'source'>,
    private readonly timeoutMs = 30_000,
  ) {}

  async request<T>(req: ApiRequest): Promise<T> {
    const url = new URL(`${this.conn.apiUrl}${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.conn.token) headers.authorization = `Bearer ${this.conn.token}`;
    let body: string | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.body !== undefined) {
      headers['content-type'] = req.contentType ?? 'text/plain';
      body = req.body;
    }
    const method = req.method ?? 'GET';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new CliError(
        `cannot reach the relay at ${this.conn.apiUrl} (${cause})`,
        EXIT.unreachable,
        this.conn.source === 'local'
          ? 'the local relay seems stopped: start it again with `npm start`'
          : 'check the URL (--api, RELAY_API_URL or `relay login`) and that the relay is running',
        undefined,
        { cause: err },
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed as T;
    if (res.status === 404 && req.allow404) return undefined as T;
    const err = apiError(method, req.path, res, parsed, this.conn.token !== undefined);
    err.httpStatus = res.status;
    const after = Number(res.headers.get('retry-after'));
    if (res.status === 429 && Number.isFinite(after) && after >= 0) err.retryAfterMs = after * 1000;
    throw err;
  }
}

/** Where to look for the right id, by the route's first segment. */
function listHint(path: string): string {
  const group = path.split('/')[1] ?? '';
  const ls: Record<string, string> = {
    jobs: 'relay jobs',
    feeds: 'relay feeds ls',
    tokens: 'relay tokens ls',
    notifications: 'relay notify ls',
  };
  return `check the id: \`${ls[group] ?? 'relay --help'}\` lists yours`;
}

function apiError(method: string, path: string, res: Response, body: unknown, hadToken: boolean): CliError {
  const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = e?.code ?? `http${res.status}`;
  const message = e?.message ?? `HTTP ${res.status}`;
  const what = `${method} ${path}`;
  switch (res.status) {
    case 401:
      return new CliError(
        `the relay refused the token (${message})`,
        EXIT.auth,
        hadToken
          ? 'check --token / RELAY_TOKEN, or run `relay login` with a valid token (the local relay prints one at start)'
          : 'give a token: --token, RELAY_TOKEN, or `relay login` (inside the repo the local relay’s token is found by itself)',
        code,
      );
    case 403:
      return new CliError(
        `not allowed: ${message}`,
        EXIT.auth,
        'use a token with a wider scope (`relay tokens create --scope admin`, made with an admin token)',
        code,
      );
    case 429: {
      const after = res.headers.get('retry-after');
      return new CliError(
        `rate limited: ${message}`,
        EXIT.rateLimited,
        after ? `wait ${after} s and try again` : 'wait a minute and try again',
        code,
      );
    }
    case 404:
      if (code === 'notFound' && /no such route/.test(message)) {
        return new CliError(
          `this relay has no ${what}`,
          EXIT.failed,
          'the relay is older than this CLI: update and redeploy it',
          code,
        );
      }
      return new CliError(message, EXIT.failed, listHint(path), code);
    case 400:
    case 413:
    case 415:
    case 422:
      return new CliError(message, EXIT.usage, 'fix the input and try again', code);
    case 409:
      return new CliError(message, EXIT.failed, `${listHint(path)} and their state`, code);
    default:
      return new CliError(
        `${what} failed: ${message} (HTTP ${res.status})`,
        EXIT.failed,
        res.status >= 500 ? 'try again; if it persists, look at the relay’s logs' : undefined,
        code,
      );
  }
}

/**
 * The list in a listing answer: `{<key>: [...]}` as the API answers, or a bare array; also `items`, so a
 * route that names its list differently still shows.
 */
export function listOf<T>(answer: unknown, key: string): T[] {
  if (Array.isArray(answer)) return answer as T[];
  const obj = (answer ?? {}) as Record<string, unknown>;
  const list = obj[key] ?? obj.items;
  return Array.isArray(list) ? (list as T[]) : [];
}
