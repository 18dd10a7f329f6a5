/**
 * A tiny HTTP file server on 127.0.0.1 standing in for the sites users relay files from: every path
 * answers a few bytes, except `/missing/...` (404) and `/slow/...` (answers after `slowMs`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running source server. */
export interface SourceServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** A URL that serves a small file; `i` makes it unique. */
  fileUrl(i: number | string): string;
  /** A URL that answers 404 (the remote upload fails with a reason). */
  missingUrl(i: number | string): string;
  /** GET requests served, by path. */
  hits(): number;
  close(): Promise<void>;
}

/** Starts the source server. */
export async function startSourceServer(opts: { slowMs?: number } = {}): Promise<SourceServer> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    const path = req.url ?? '/';
    if (path.startsWith('/missing/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const send = () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 4 });
      res.end('data');
    };
    if (path.startsWith('/slow/')) setTimeout(send, opts.slowMs ?? 2000).unref();
    else send();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    fileUrl: (i) => `${origin}/files/${i}.bin`,
    missingUrl: (i) => `${origin}/missing/${i}.bin`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
