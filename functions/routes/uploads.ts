/**
 * A feed of finished uploads: `GET /uploads.atom` (Atom, RFC 4287) and `GET /uploads.json` (JSON Feed 1.1),
 * the caller's last 100 `done` jobs, newest first, each entry keyed by its job id so readers never show one
 * twice. Accepts Basic auth, so a reader can follow `https://x:<token>@host/uploads.atom`.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ApiDeps } from '../../shared/app/api-deps.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import { fileNameOf } from '../../shared/notify/events.js';
import type { ApiEnv } from './guard.js';
import { NOTIFY_ROUTE_SCOPES, type RouteScope } from './notify.js';

/** Entries in one feed document. */
export const UPLOADS_FEED_SIZE = 100;

type Env = ApiEnv;

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what must be removed.
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function escapeXml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // XML 1.0 forbids most control characters even as references.
      .replace(XML_FORBIDDEN, '')
  );
}

/** The relay's own address as the request reached it (the feed's self link). */
function selfBase(c: Context<Env>): string {
  const url = new URL(c.req.url);
  return `${url.protocol}//${url.host}`;
}

/** The Atom document of the jobs (newest first). */
export function uploadsAtom(jobs: readonly JobRecord[], base: string, now: number): string {
  const updated = jobs[0]?.updatedAt ?? new Date(now).toISOString();
  const entries = jobs.map((j) => {
    const name = escapeXml(fileNameOf(j));
    const link = escapeXml(j.fileUrl ?? '');
    return [
      '  <entry>',
      `    <id>urn:fichier-relay:job:${escapeXml(j.id)}</id>`,
      `    <title>${name}</title>`,
      `    <link rel="alternate" href="${link}"/>`,
      `    <updated>${escapeXml(j.updatedAt)}</updated>`,
      `    <published>${escapeXml(j.createdAt)}</published>`,
      `    <summary>${name} is in your 1fichier account (from ${escapeXml(hostOf(j.url))}).</summary>`,
      '  </entry>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    '  <id>urn:fichier-relay:uploads</id>',
    '  <title>fichier-relay: finished uploads</title>',
    `  <link rel="self" href="${escapeXml(`${base}/uploads.atom`)}"/>`,
    `  <updated>${escapeXml(updated)}</updated>`,
    '  <author><name>fichier-relay</name></author>',
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}

/** The JSON Feed 1.1 document of the jobs (newest first). */
export function uploadsJsonFeed(jobs: readonly JobRecord[], base: string) {
  return {
    version: 'https://jsonfeed.org/version/1.1',
    title: 'fichier-relay: finished uploads',
    feed_url: `${base}/uploads.json`,
    items: jobs.map((j) => ({
      id: j.id,
      url: j.fileUrl,
      title: fileNameOf(j),
      content_text: `${fileNameOf(j)} is in your 1fichier account (from ${hostOf(j.url)}).`,
      date_published: j.createdAt,
      date_modified: j.updatedAt,
    })),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'an unreadable URL';
  }
}

/** Registers both feed routes. */
export function registerUploadsRoutes(
  app: Hono<Env>,
  deps: ApiDeps,
  requireScope: (scope: RouteScope) => MiddlewareHandler<Env>,
): void {
  // Each route's scope (NOTIFY_ROUTE_SCOPES) is enforced by the API's token guard.
  const auth = requireScope;
  const done = async (c: Context<Env>) =>
    (await deps.store.listForUser(c.get('userId'), { status: 'done', limit: UPLOADS_FEED_SIZE })).items;

  app.get('/uploads.atom', auth(NOTIFY_ROUTE_SCOPES['GET /uploads.atom']), async (c) => {
    const xml = uploadsAtom(await done(c), selfBase(c), deps.clock.now());
    return c.body(xml, 200, { 'content-type': 'application/atom+xml; charset=utf-8' });
  });

  app.get('/uploads.json', auth(NOTIFY_ROUTE_SCOPES['GET /uploads.json']), async (c) => {
    const feed = uploadsJsonFeed(await done(c), selfBase(c));
    return c.body(JSON.stringify(feed), 200, { 'content-type': 'application/feed+json; charset=utf-8' });
  });
}
