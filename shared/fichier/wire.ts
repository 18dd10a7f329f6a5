/**
 * Wire schemas of the 1fichier answers the client reads (docs/1fichier-api.md, "Endpoints"), beside the
 * types in `types.ts`. Lenient on purpose: 1fichier sends some numbers as strings and some strings as
 * numbers (rclone maps them both ways), and lists are read entry by entry, so one odd entry is skipped
 * instead of failing the whole answer.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini ships no messages; English ones keep error texts and skip reasons readable (~3 KiB).
z.config(en());

import type {
  DownloadTokenResult,
  FileInfoResult,
  FolderListResult,
  MkdirResult,
  RemoteInfoResult,
  RemoteListEntry,
  RemoteRequestResult,
  RemoteUrlResult,
  UserInfoResult,
} from './types.js';

const pre = <T extends z.ZodMiniType>(fn: (v: unknown) => unknown, schema: T) =>
  z.pipe(z.transform(fn), schema);
const num = z.coerce.number().check(z.refine(Number.isFinite, 'not a number'));
const optNum = pre((v) => (v === null || v === '' ? undefined : v), z.optional(num));
const str = pre((v) => (v === null || v === undefined ? '' : v), z.coerce.string());
const optStr = pre((v) => (v === null ? undefined : v), z.optional(z.coerce.string()));
const status = pre(
  (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v),
  z.catch(z.optional(z.enum(['OK', 'KO'])), undefined),
);
const stringMap = z.record(z.string(), z.coerce.string());

/** A remote request id: a positive integer (a numeric string is accepted); anything else is unreadable. */
const remoteId = pre(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z.int().check(z.positive(), z.maximum(Number.MAX_SAFE_INTEGER)),
);

const remoteRequestSchema = z.looseObject({
  status,
  id: remoteId,
  date: optStr,
  urls: z.catch(z.optional(z.array(z.coerce.string())), undefined),
  headers: z.catch(z.optional(stringMap), undefined),
  message: optStr,
});
const listEntrySchema = z.looseObject({ id: remoteId, request_date: str, execution_date: str });
const urlResultSchema = z.looseObject({
  status: pre((v) => (typeof v === 'string' ? v.trim().toUpperCase() : v), z.enum(['OK', 'KO'])),
  url: str,
  download_link: optStr,
  message: optStr,
});
const remoteInfoSchema = z.looseObject({
  id: remoteId,
  request_date: str,
  execution_date: str,
  links: z.catch(z.optional(z.array(z.coerce.string())), undefined),
  status,
  message: optStr,
});
const fileInfoSchema = z.looseObject({
  url: z.string(),
  filename: str,
  size: num,
  date: optStr,
  folder_id: optNum,
  path: optStr,
  checksum: optStr,
  content_type: optStr,
});
const folderListSchema = z.looseObject({
  folder_id: z.catch(num, 0),
  name: str,
  create_date: optStr,
  sub_folders: z.pipe(
    z.nullish(z.array(z.looseObject({ id: num, name: str, create_date: optStr, pass: optNum }))),
    z.transform((s) => s ?? []),
  ),
  items: z.catch(z.optional(z.array(fileInfoSchema)), undefined),
});
const mkdirSchema = z.looseObject({ status, folder_id: num, name: str, message: optStr });
const downloadTokenSchema = z.looseObject({ status, url: z.string(), message: optStr });
const userInfoSchema = z.looseObject({
  email: str,
  offer: z.catch(num, 0),
  subscription_end: optStr,
  available_storage: optNum,
  upload_forbidden: optNum,
});

/** An entry of a list answer that could not be used, for one log line. */
export interface SkippedEntry {
  /** Where it was: `data[3]`, `result[1]`. */
  at: string;
  /** The request it belongs to (remote/info.cgi), when known. */
  requestId?: number;
  reason: string;
  /** The entry as received, cut short (never holds a secret: 1fichier answers carry none). */
  sample: string;
}

/** A parsed list answer: the usable entries and the skipped ones. */
export interface Lenient<T> {
  value: T;
  skipped: SkippedEntry[];
}

function sampleOf(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

function eachEntry<T>(
  raw: unknown,
  field: string,
  schema: z.ZodMiniType<T>,
  requestId?: number,
): Lenient<T[]> {
  const value: T[] = [];
  const skipped: SkippedEntry[] = [];
  if (raw === undefined || raw === null) return { value, skipped };
  if (!Array.isArray(raw)) {
    skipped.push({ at: field, requestId, reason: 'not a list', sample: sampleOf(raw) });
    return { value, skipped };
  }
  raw.forEach((entry, i) => {
    const parsed = schema.safeParse(entry);
    if (parsed.success) value.push(parsed.data);
    else {
      const issue = parsed.error.issues[0];
      const reason = issue ? `${issue.path.join('.') || 'entry'}: ${issue.message}` : 'unreadable';
      skipped.push({ at: `${field}[${i}]`, requestId, reason, sample: sampleOf(entry) });
    }
  });
  return { value, skipped };
}

/** remote/request.cgi: throws when there is no usable id (the caller treats that as maybe submitted). */
export function parseRemoteRequest(json: unknown): RemoteRequestResult {
  return remoteRequestSchema.parse(json) as RemoteRequestResult;
}

/** remote/ls.cgi `data`, entry by entry: an entry without a usable id is skipped. */
export function parseRemoteList(json: unknown): Lenient<RemoteListEntry[]> {
  const data = (json as Record<string, unknown> | undefined)?.data;
  return eachEntry(data, 'data', listEntrySchema) as Lenient<RemoteListEntry[]>;
}

/**
 * remote/info.cgi: throws when the request itself has no usable id; its `result` entries are read one by
 * one, and one without a usable status is skipped.
 */
export function parseRemoteInfo(json: unknown): Lenient<RemoteInfoResult> {
  const head = remoteInfoSchema.parse(json);
  const results = eachEntry((json as Record<string, unknown>).result, 'result', urlResultSchema, head.id);
  const value = { ...head } as RemoteInfoResult;
  if (Array.isArray((json as Record<string, unknown>).result))
    value.result = results.value as RemoteUrlResult[];
  return { value, skipped: results.skipped };
}

export const parseFileInfo = (json: unknown) => fileInfoSchema.parse(json) as FileInfoResult;
export const parseFolderList = (json: unknown) => folderListSchema.parse(json) as FolderListResult;
export const parseMkdir = (json: unknown) => mkdirSchema.parse(json) as MkdirResult;
export const parseDownloadToken = (json: unknown) => downloadTokenSchema.parse(json) as DownloadTokenResult;
export const parseUserInfo = (json: unknown) => userInfoSchema.parse(json) as UserInfoResult;
