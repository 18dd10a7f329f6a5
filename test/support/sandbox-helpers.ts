/**
 * Helpers of the sandbox tests: a source file server on 127.0.0.1, a closed port, a JSON API caller,
 * polling with a deadline, and zod schemas of the answers documented in docs/1fichier-api.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, fetch } from 'undici';
import { z } from 'zod';

/** `YYYY-MM-DD HH:MM:SS` (docs/1fichier-api.md, "Transport and authentication"). */
export const fichierDate = z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

/** `{"status":"KO","message":"..."}` (docs/1fichier-api.md, "Errors"). */
export const koSchema = z.strictObject({ status: z.literal('KO'), message: z.string().min(1) });

/** remote/request.cgi (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const remoteRequestSchema = z.object({
  status: z.literal('OK'),
  id: z.number().int().positive(),
  date: fichierDate,
  urls: z.array(z.string()),
  headers: z.record(z.string(), z.string()),
});

/** remote/ls.cgi (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const remoteListSchema = z.object({
  status: z.literal('OK'),
  data: z.array(
    z.object({ id: z.number().int().positive(), request_date: fichierDate, execution_date: fichierDate }),
  ),
});

/** remote/info.cgi (docs/1fichier-api.md, "Endpoints the relay calls"); the sandbox sends no top-level status, as the real API may not. */
export const remoteInfoSchema = z.strictObject({
  id: z.number().int().positive(),
  request_date: fichierDate,
  execution_date: fichierDate,
  links: z.array(z.string()),
  result: z.array(
    z.strictObject({
      status: z.enum(['OK', 'KO']),
      url: z.string(),
      download_link: z.string().optional(),
      message: z.string().optional(),
    }),
  ),
});

/** file/info.cgi (docs/1fichier-api.md, "Endpoints the relay calls"); checksum is sha256 hex in the sandbox (whirlpool on 1fichier). */
export const fileInfoSchema = z.object({
  url: z.string().url(),
  filename: z.string().min(1),
  size: z.number().int().nonnegative(),
  date: fichierDate,
  folder_id: z.number().int().nonnegative(),
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  content_type: z.string().min(1),
});

/** folder/ls.cgi (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const folderListSchema = z.object({
  folder_id: z.number().int().nonnegative(),
  name: z.string(),
  create_date: fichierDate,
  sub_folders: z.array(
    z.object({ id: z.number().int().positive(), name: z.string(), create_date: fichierDate }),
  ),
  items: z.array(fileInfoSchema).optional(),
});

/** folder/mkdir.cgi (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const mkdirSchema = z.object({
  status: z.literal('OK'),
  folder_id: z.number().int().positive(),
  name: z.string(),
});

/** download/get_token.cgi (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const downloadTokenSchema = z.object({
  status: z.literal('OK'),
  url: z.string().url(),
  message: z.string(),
});

/** user/info.cgi (docs/1fichier-api.md, "Endpoints the relay calls"). */
export const userInfoSchema = z.looseObject({
  email: z.string().min(1),
  offer: z.union([z.literal(0), z.literal(1)]),
});

/** A JSON answer. */
export interface ApiAnswer {
  status: number;
  json: unknown;
}

/** POSTs a JSON body to `<baseUrl>/<endpoint>` with a Bearer key (omitted when `key` is undefined). */
export async function callApi(
  baseUrl: string,
  endpoint: string,
  body: unknown,
  key: string | undefined,
  init: { dispatcher?: Agent; signal?: AbortSignal } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${baseUrl}/${endpoint}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A source file server for remote requests. */
export interface SourceServer {
  origin: string;
  /** 64 KiB of random bytes at `/file.bin`. */
  fileBytes: Buffer;
  fileSha256: string;
  /** Headers of the last request per path. */
  lastHeaders: Map<string, Record<string, string | string[] | undefined>>;
  /** Releases the requests waiting at `/gated.bin` (answered with `fileBytes`). */
  releaseGate(): void;
  /** How many requests are waiting at `/gated.bin`. */
  gatedWaiting(): number;
  close(): Promise<void>;
}

/**
 * Routes: `/file.bin` (64 KiB), `/missing` (404), `/error` (500), `/big` (200 KiB with content-length),
 * `/big-chunked` (200 KiB without content-length), `/redirect` (302 to /file.bin),
 * `/needs-token` (403 unless `x-token: secret`), `/gated.bin` (held until `releaseGate()`).
 */
export async function startSourceServer(): Promise<SourceServer> {
  const fileBytes = randomBytes(64 * 1024);
  const big = Buffer.alloc(200 * 1024, 7);
  const lastHeaders = new Map<string, Record<string, string | string[] | undefined>>();
  let gate: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    lastHeaders.set(path, { ...req.headers });
    const sendFile = () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': fileBytes.length });
      res.end(fileBytes);
    };
    switch (path) {
      case '/file.bin':
        return sendFile();
      case '/missing':
        res.writeHead(404);
        return res.end('not here');
      case '/error':
        res.writeHead(500);
        return res.end('boom');
      case '/big':
        res.writeHead(200, { 'content-length': big.length });
        return res.end(big);
      case '/big-chunked':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 10; i++) res.write(big.subarray(i * 20 * 1024, (i + 1) * 20 * 1024));
        return res.end();
      case '/redirect':
        res.writeHead(302, { location: '/file.bin' });
        return res.end();
      case '/needs-token':
        if (req.headers['x-token'] !== 'secret') {
          res.writeHead(403);
          return res.end('forbidden');
        }
        return sendFile();
      case '/gated.bin':
        gate.push(sendFile);
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    fileBytes,
    fileSha256: createHash('sha256').update(fileBytes).digest('hex'),
    lastHeaders,
    releaseGate() {
      const waiting = gate;
      gate = [];
      for (const send of waiting) send();
    },
    gatedWaiting: () => gate.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An undici agent whose connections to 127.0.0.1 come from another loopback address (another client IP). */
export function agentFrom(localAddress: string): Agent {
  return new Agent({ localAddress });
}
