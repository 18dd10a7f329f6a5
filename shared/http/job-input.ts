/**
 * Parses a job-creation body in any of the shapes callers send (JSON object, `{urls}`, array,
 * form-urlencoded, plain text; IFTTT sometimes sends no content type at all) into validated,
 * normalised job requests. Everything is validated before anything is written.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { builtOnFirstUse } from './built-on-first-use.js';

// zod/mini ships no messages; English ones keep error texts and skip reasons readable (~3 KiB).
z.config(en());

import type { JobRequest } from '../jobs/enqueue.js';
import { JOB_STATUSES, type JobStatus } from '../jobs/model.js';
import { InvalidInputError, normaliseFolder, normaliseUrl } from '../jobs/normalise.js';
import { checkOutboundUrl } from '../net/url-guard.js';
import { HttpError } from './errors.js';
import { parseJsonBody } from './json-body.js';

/** Largest body accepted. */
export const MAX_BODY_BYTES = 256 * 1024;
/** Most URLs in one request. */
export const MAX_URLS_PER_REQUEST = 500;
/** Most distinct folders in one request: each new one costs folder/ls.cgi (and mkdir) calls at 1fichier. */
export const MAX_FOLDERS_PER_REQUEST = 20;

/** Options of {@link parseJobBody}. */
export interface JobBodyOptions {
  /** `RELAY_ALLOW_PRIVATE_URLS=1`: a `callbackUrl` may name loopback or private hosts (local testing). */
  allowPrivateUrls?: boolean;
}

/**
 * The job bodies a request may send (also in the OpenAPI document), built by the first request that
 * parses one: `json` is `{url}`, `{urls}`, or an array of those objects or of URL strings; `form` has
 * `url` (repeatable, or several lines), `urls`, `folder`, `callbackUrl`; `text` is one URL per line.
 */
export const jobBodySchemas = builtOnFirstUse(() => {
  const item = z.looseObject({
    url: z.optional(z.string()),
    urls: z.optional(z.array(z.string())),
    folder: z.nullish(z.string()),
    callbackUrl: z.nullish(z.string()),
  });
  return {
    json: z.union([item, z.array(z.union([item, z.string()])).check(z.minLength(1))]),
    form: z.looseObject({
      url: z.optional(z.array(z.string())),
      urls: z.optional(z.array(z.string())),
      folder: z.optional(z.string()),
      callbackUrl: z.optional(z.string()),
    }),
    text: z.string(),
  };
});

interface RawRequest {
  url: string;
  folder?: string | null;
  callbackUrl?: string | null;
}

function fromJson(text: string): RawRequest[] {
  const data = parseJsonBody(
    jobBodySchemas().json,
    text,
    'expected {"url"}, {"urls":[...]} or an array of them',
  );
  const items = Array.isArray(data) ? data : [data];
  const out: RawRequest[] = [];
  items.forEach((item, i) => {
    if (typeof item === 'string') {
      out.push({ url: item });
      return;
    }
    if (item.url === undefined && item.urls === undefined) {
      throw new HttpError(400, 'invalidBody', `item ${i}: "url" or "urls" is required`);
    }
    for (const url of [...(item.url === undefined ? [] : [item.url]), ...(item.urls ?? [])]) {
      out.push({ url, folder: item.folder, callbackUrl: item.callbackUrl });
    }
  });
  return out;
}

/** The fields of a form body as {@link jobBodySchemas}' `form` describes them (`url` and `urls` repeatable). */
export function formBodyFields(text: string): Record<string, string | string[]> {
  const params = new URLSearchParams(text);
  const fields: Record<string, string | string[]> = {
    url: params.getAll('url'),
    urls: params.getAll('urls'),
  };
  for (const name of ['folder', 'callbackUrl']) {
    const value = params.get(name);
    if (value !== null) fields[name] = value;
  }
  return fields;
}

function fromForm(text: string): RawRequest[] {
  // Every form value is a string, so this cannot fail; it keeps the form's fields those of the document.
  const form = jobBodySchemas().form.parse(formBodyFields(text));
  const folder = form.folder ?? null;
  const callbackUrl = form.callbackUrl ?? null;
  return [...(form.url ?? []), ...(form.urls ?? [])].flatMap((v) =>
    v
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean)
      .map((url) => ({ url, folder, callbackUrl })),
  );
}

function fromText(text: string): RawRequest[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((url) => ({ url }));
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

/**
 * Parses and validates a body. Throws {@link HttpError} 400/413/415 naming the first problem.
 * @param bytes raw body length in bytes (checked against {@link MAX_BODY_BYTES})
 */
export function parseJobBody(
  contentType: string | undefined,
  text: string,
  bytes: number,
  opts: JobBodyOptions = {},
): JobRequest[] {
  if (bytes > MAX_BODY_BYTES)
    throw new HttpError(413, 'bodyTooLarge', `body is larger than ${MAX_BODY_BYTES} bytes`);
  const type = mediaType(contentType);
  let raw: RawRequest[];
  if (type === 'application/json' || type.endsWith('+json')) raw = fromJson(text);
  else if (type === 'application/x-www-form-urlencoded') raw = fromForm(text);
  else if (type === 'text/plain') raw = fromText(text);
  else if (type === '') {
    // No content type (some IFTTT setups): JSON if it looks like JSON, otherwise one URL per line.
    const t = text.trimStart();
    raw = t.startsWith('{') || t.startsWith('[') ? fromJson(text) : fromText(text);
  } else {
    throw new HttpError(
      415,
      'unsupportedMediaType',
      'use application/json, application/x-www-form-urlencoded or text/plain',
    );
  }
  if (raw.length === 0) throw new HttpError(400, 'noUrl', 'no URL in the body');
  if (raw.length > MAX_URLS_PER_REQUEST) {
    throw new HttpError(413, 'tooManyUrls', `at most ${MAX_URLS_PER_REQUEST} URLs per request`);
  }
  const requests = raw.map((r, i) => {
    const label = raw.length === 1 ? 'url' : `url ${i + 1}`;
    const req: JobRequest = {
      url: check('invalidUrl', () => normaliseUrl(r.url, label)),
      folder: check('invalidFolder', () => normaliseFolder(r.folder)),
    };
    if (r.callbackUrl) {
      const callbackUrl = check('invalidCallbackUrl', () =>
        normaliseUrl(r.callbackUrl as string, `callbackUrl of ${label}`),
      );
      // Checked again when it is called (the name may resolve elsewhere by then): this refuses the
      // obvious cases now, with a reason the caller can act on.
      const verdict = checkOutboundUrl(callbackUrl, { allowPrivate: opts.allowPrivateUrls === true });
      if (!verdict.ok) {
        throw new HttpError(400, 'invalidCallbackUrl', `callbackUrl of ${label}: ${verdict.message}`);
      }
      req.callbackUrl = callbackUrl;
    }
    return req;
  });
  const folders = new Set(requests.map((r) => r.folder));
  if (folders.size > MAX_FOLDERS_PER_REQUEST) {
    throw new HttpError(
      400,
      'tooManyFolders',
      `${folders.size} folders in one request; at most ${MAX_FOLDERS_PER_REQUEST} are allowed`,
    );
  }
  return requests;
}

function check<T>(code: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InvalidInputError) throw new HttpError(400, code, err.message);
    throw err;
  }
}

/** Validates an `Idempotency-Key` header (printable ASCII, at most 255 characters). */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > 255 || !/^[\x21-\x7e]+$/.test(value)) {
    throw new HttpError(
      400,
      'invalidIdempotencyKey',
      'Idempotency-Key must be 1-255 printable ASCII characters',
    );
  }
  return value;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;
const MAX_CURSOR_LENGTH = 2000;

/** The `GET /jobs` query parameters, one schema each (they validate the query and describe it in the OpenAPI document), built on first use. */
export const listQuerySchemas = builtOnFirstUse(() => ({
  status: z.enum(JOB_STATUSES),
  limit: z.int().check(z.gte(1), z.lte(MAX_PAGE)),
  cursor: z.string().check(z.minLength(1), z.maxLength(MAX_CURSOR_LENGTH)),
  /** `array`: a bare JSON array, for Zapier polling. */
  format: z.literal('array'),
}));

/** `GET /jobs` query: `status` one of the job statuses, `limit` 1–100 (default 50), an opaque `cursor`. */
export function parseListQuery(q: { status?: string; limit?: string; cursor?: string }): {
  limit: number;
  status?: JobStatus;
  cursor?: string;
} {
  if (q.status !== undefined && !listQuerySchemas().status.safeParse(q.status).success) {
    throw new HttpError(400, 'invalidStatus', `status must be one of ${JOB_STATUSES.join(', ')}`);
  }
  const limit = q.limit === undefined ? DEFAULT_PAGE : Number(q.limit);
  if (!listQuerySchemas().limit.safeParse(limit).success) {
    throw new HttpError(400, 'invalidLimit', `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  if (q.cursor !== undefined && !listQuerySchemas().cursor.safeParse(q.cursor).success) {
    throw new HttpError(400, 'invalidCursor', 'cursor is not valid');
  }
  return {
    limit,
    ...(q.status ? { status: q.status as JobStatus } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  };
}

/** `GET /jobs?format=`: absent, or `array` (a bare JSON array, which Zapier's polling trigger reads). */
export function parseListFormat(value: string | undefined): 'array' | undefined {
  if (value === undefined) return undefined;
  if (!listQuerySchemas().format.safeParse(value).success) {
    throw new HttpError(
      400,
      'invalidFormat',
      'format must be "array" (a bare JSON array, for Zapier polling)',
    );
  }
  return 'array';
}
