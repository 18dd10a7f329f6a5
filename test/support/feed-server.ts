/**
 * A feed publisher for tests: a real HTTP server on 127.0.0.x whose answers are set per path (status,
 * headers, body), recording every request it received (method, path, headers). Fixture documents are
 * read as bytes, so charsets are served for real.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/feeds/', import.meta.url));

/** The bytes of a file under test/fixtures/feeds. */
export function feedFixture(name: string): Buffer {
  return readFileSync(`${FIXTURES}${name}`);
}

/** One answer. A function answer sees the request (conditional GET tests). */
export interface FeedAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A request the server received. */
export interface FeedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** A running feed server. */
export interface FeedServer {
  origin: string;
  host: string;
  port: number;
  url(path: string): string;
  /** Sets what `path` answers from now on. */
  route(path: string, answer: FeedAnswer | ((req: FeedRequest) => FeedAnswer)): void;
  requests: FeedRequest[];
  /** Requests received for `path`. */
  hits(path: string): number;
  close(): Promise<void>;
}

/** Starts a feed server on `host` (default 127.0.0.1), port 0. Unknown paths answer 404. */
export async function startFeedServer(host = '127.0.0.1'): Promise<FeedServer> {
  const routes = new Map<string, FeedAnswer | ((req: FeedRequest) => FeedAnswer)>();
  const requests: FeedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const seen: FeedRequest = { method: req.method ?? '', path, headers: req.headers };
    requests.push(seen);
    req.resume();
    const route = routes.get(path);
    const answer = typeof route === 'function' ? route(seen) : (route ?? { status: 404, body: 'not found' });
    const body = answer.body ?? '';
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/rss+xml', ...answer.headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host}:${port}`;
  return {
    origin,
    host,
    port,
    url: (path) => `${origin}${path}`,
    route: (path, answer) => routes.set(path, answer),
    requests,
    hits: (path) => requests.filter((r) => r.path === path).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An item of {@link rssFeed}. */
export interface RssItem {
  guid?: string;
  title: string;
  link?: string;
  /** Enclosure URLs. */
  files?: string[];
  /** Epoch ms. */
  published?: number;
}

/** A small RSS 2.0 document (newest item first, as feeds list them). */
export function rssFeed(items: readonly RssItem[], title = 'Test feed'): string {
  const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
  const body = items
    .map(
      (i) => `    <item>
      <title>${esc(i.title)}</title>
${i.guid ? `      <guid isPermaLink="false">${esc(i.guid)}</guid>\n` : ''}${i.link ? `      <link>${esc(i.link)}</link>\n` : ''}${
  i.published !== undefined ? `      <pubDate>${new Date(i.published).toUTCString()}</pubDate>\n` : ''
}${(i.files ?? []).map((f) => `      <enclosure url="${esc(f)}" length="1" type="application/octet-stream"/>\n`).join('')}    </item>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>${esc(title)}</title>
    <link>https://example.org/</link>
${body}
  </channel>
</rss>
`;
}
