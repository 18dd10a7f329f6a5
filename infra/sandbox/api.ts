/**
 * The sandbox's `/v1/<family>/<verb>.cgi` endpoints: request parsing and answers shaped like
 * docs/1fichier-api.md, "Endpoints the relay calls" and `shared/fichier/types.ts`. Authentication, rate limits and faults happen before
 * (in `server.ts`); handlers only see an authenticated account and a parsed JSON object.
 */
import type {
  DownloadTokenResult,
  FileInfoResult,
  FolderListResult,
  MkdirResult,
  RemoteInfoResult,
  RemoteListEntry,
  RemoteRequestResult,
  SubFolder,
  UserInfoResult,
} from '../../shared/fichier/types.js';
import type { ResolvedSandboxOptions } from './config.js';
import type { AnswerFaults } from './faults.js';
import {
  FILE_ID_LENGTH,
  type RemoteUpload,
  type SandboxAccount,
  type SandboxFile,
  type SandboxFolder,
  type SandboxStore,
} from './store.js';
import { fichierDate, KoError, MESSAGES, NOT_EXECUTED } from './wire.js';

/** What a handler gets. */
export interface ApiContext {
  store: SandboxStore;
  account: SandboxAccount;
  body: Record<string, unknown>;
  opts: ResolvedSandboxOptions;
  /** The client's IP (user/info.cgi is limited per IP as well as per key). */
  ip: string;
  /** The faults that bend this endpoint's answers. */
  faults: AnswerFaults;
  /** Starts fetching the URLs of a new remote request in the background. */
  startRemote(account: SandboxAccount, job: RemoteUpload): void;
  /** A one-shot direct download URL for a file. */
  issueDownloadUrl(file: SandboxFile): string;
}

/** An answer: HTTP status and JSON body. */
export interface ApiReply {
  status: number;
  body: unknown;
}

/** One endpoint. */
export interface Endpoint {
  /** Only premium keys may call it (free keys get `Must be a customer (Premium, Access) #200`). */
  premium: boolean;
  handle(ctx: ApiContext): ApiReply;
}

/** docs/1fichier-api.md, "Rate limits" for name length; the URL cap is the sandbox's own (the real maximum is unknown, see "Open questions" there). */
const MAX_FOLDER_NAME = 250;
const MAX_URLS_PER_REQUEST = 100;

const ok = (body: unknown): ApiReply => ({ status: 200, body });

function intParam(body: Record<string, unknown>, name: string): number | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') return undefined;
  // Numbers may travel as strings (docs/1fichier-api.md, "Endpoints the relay calls": clients parse leniently; accept the same here).
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new KoError(400, `Invalid parameter ${name}: an integer is expected`);
  }
  return n;
}

function requiredInt(body: Record<string, unknown>, name: string): number {
  const n = intParam(body, name);
  if (n === undefined) throw new KoError(400, `Missing parameter ${name}`);
  return n;
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '') throw new KoError(400, `Missing parameter ${name}`);
  return v;
}

function folderOf(account: SandboxAccount, id: number): SandboxFolder {
  const folder = account.folders.get(id);
  if (!folder) throw new KoError(404, MESSAGES.notFound);
  return folder;
}

function folderPath(account: SandboxAccount, folder: SandboxFolder): string {
  const names: string[] = [];
  for (let f: SandboxFolder | undefined = folder; f && f.parentId !== null; ) {
    names.unshift(f.name);
    f = account.folders.get(f.parentId);
  }
  return `/${names.join('/')}`;
}

/** The file id of a link: accepts the sandbox's `http://127.0.0.1:P/<id>` and 1fichier's `…/?<id>` forms. */
export function fileIdOf(url: string): string | undefined {
  const m = url.trim().match(new RegExp(`[/?]([a-z0-9]{${FILE_ID_LENGTH}})(?:[&/].*)?$`));
  return m?.[1];
}

function fileOf(account: SandboxAccount, url: string): SandboxFile {
  const id = fileIdOf(url);
  const file = id ? account.files.get(id) : undefined;
  if (!file) throw new KoError(404, MESSAGES.notFound);
  return file;
}

/** Renders a date in the zone the faults ask for. */
const dateOf = (ctx: ApiContext, date: Date) =>
  fichierDate(new Date(date.getTime() + ctx.faults.dateShiftMs), ctx.faults.dateZone);

function fileInfo(ctx: ApiContext, account: SandboxAccount, file: SandboxFile): FileInfoResult {
  return {
    url: file.url,
    filename: file.filename,
    size: file.size,
    date: dateOf(ctx, file.createdAt),
    folder_id: file.folderId,
    path: folderPath(account, folderOf(account, file.folderId)),
    checksum: file.checksum,
    content_type: file.contentType,
  };
}

function remoteRequest(ctx: ApiContext): ApiReply {
  const { account, body, store } = ctx;
  const urls = body.urls;
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string' && u !== '')) {
    throw new KoError(400, 'Invalid parameter urls: a non-empty array of URLs is expected');
  }
  if (urls.length > MAX_URLS_PER_REQUEST) {
    throw new KoError(400, `Too many urls: at most ${MAX_URLS_PER_REQUEST} per request`);
  }
  const folderId = intParam(body, 'folder_id') ?? 0;
  folderOf(account, folderId);
  const rawHeaders = body.headers ?? {};
  if (
    typeof rawHeaders !== 'object' ||
    rawHeaders === null ||
    Array.isArray(rawHeaders) ||
    !Object.values(rawHeaders).every((v) => typeof v === 'string')
  ) {
    throw new KoError(400, 'Invalid parameter headers: an object of strings is expected');
  }
  const headers = { ...(rawHeaders as Record<string, string>) };
  const job: RemoteUpload = {
    id: store.newRemoteId(),
    requestedAt: new Date(),
    urls: [...(urls as string[])],
    headers,
    folderId,
    results: [],
  };
  account.remote.set(job.id, job);
  store.changed();
  store.stats.remoteRequests++;
  for (const u of job.urls) store.count('submissions', u);
  ctx.startRemote(account, job);
  const answer: RemoteRequestResult = {
    status: 'OK',
    id: job.id,
    date: dateOf(ctx, job.requestedAt),
    urls: job.urls,
    headers,
  };
  return ok(answer);
}

function executionDate(ctx: ApiContext, job: RemoteUpload): string {
  return job.executedAt ? dateOf(ctx, job.executedAt) : NOT_EXECUTED;
}

function remoteList(ctx: ApiContext): ApiReply {
  const { lsNewest, oddEntries } = ctx.faults;
  let jobs = [...ctx.account.remote.values()].sort((a, b) => a.id - b.id);
  if (lsNewest !== undefined) jobs = lsNewest === 0 ? [] : jobs.slice(-lsNewest);
  const data: unknown[] = jobs.map(
    (job): RemoteListEntry => ({
      id: job.id,
      request_date: dateOf(ctx, job.requestedAt),
      execution_date: executionDate(ctx, job),
    }),
  );
  if (oddEntries) {
    const now = dateOf(ctx, new Date());
    data.unshift({ request_date: now, execution_date: '' });
    data.push({ id: null, request_date: now, execution_date: NOT_EXECUTED });
  }
  return ok({ status: 'OK', data });
}

function remoteInfo(ctx: ApiContext): ApiReply {
  const job = ctx.account.remote.get(requiredInt(ctx.body, 'id'));
  if (!job) throw new KoError(404, MESSAGES.notFound);
  const result: unknown[] = job.executedAt ? [...job.results] : [];
  // Only once executed: a result row before that would tell clients the request is done.
  if (ctx.faults.oddEntries && job.executedAt) result.push({ download_link: '', message: '' });
  // No top-level status: the real answer may not carry one (docs/1fichier-api.md, "Endpoints the relay calls" and "Open questions and how the relay hedges them" question 7).
  const answer = {
    id: job.id,
    request_date: dateOf(ctx, job.requestedAt),
    execution_date: executionDate(ctx, job),
    links: job.urls,
    result,
  } satisfies Omit<RemoteInfoResult, 'result'> & { result: unknown[] };
  return ok(answer);
}

function subFolders(account: SandboxAccount, parentId: number): SandboxFolder[] {
  return [...account.folders.values()].filter((f) => f.parentId === parentId);
}

function folderList(ctx: ApiContext): ApiReply {
  const { account, body } = ctx;
  const folder = folderOf(account, intParam(body, 'folder_id') ?? 0);
  const sub: SubFolder[] = subFolders(account, folder.id).map((f) => ({
    id: f.id,
    name: f.name,
    create_date: dateOf(ctx, f.createdAt),
    pass: 0,
  }));
  const answer: FolderListResult = {
    folder_id: folder.id,
    name: folder.name,
    create_date: dateOf(ctx, folder.createdAt),
    sub_folders: sub,
  };
  // docs/1fichier-api.md, "Endpoints the relay calls": `files: 1` asks for the file list.
  if (intParam(body, 'files') === 1) {
    answer.items = [...account.files.values()]
      .filter((f) => f.folderId === folder.id)
      .map((f) => fileInfo(ctx, account, f));
  }
  return ok(answer);
}

function folderMkdir({ account, body, store }: ApiContext): ApiReply {
  const name = body.name;
  // Real texts for bad or duplicate names are unknown (docs/1fichier-api.md, "Known messages"); these are the sandbox's own.
  if (typeof name !== 'string' || name.trim() === '' || [...name].length > MAX_FOLDER_NAME) {
    throw new KoError(400, `Invalid folder name: 1 to ${MAX_FOLDER_NAME} characters expected`);
  }
  const parent = folderOf(account, intParam(body, 'folder_id') ?? 0);
  if (subFolders(account, parent.id).some((f) => f.name === name)) {
    throw new KoError(403, 'A folder with this name already exists in the destination folder');
  }
  const folder: SandboxFolder = { id: store.newFolderId(), name, parentId: parent.id, createdAt: new Date() };
  account.folders.set(folder.id, folder);
  store.changed();
  const answer: MkdirResult = { status: 'OK', folder_id: folder.id, name };
  return ok(answer);
}

function fileInfoHandler(ctx: ApiContext): ApiReply {
  return ok(fileInfo(ctx, ctx.account, fileOf(ctx.account, requiredString(ctx.body, 'url'))));
}

function downloadToken(ctx: ApiContext): ApiReply {
  const id = fileIdOf(requiredString(ctx.body, 'url'));
  // Any public file may be downloaded by a premium key, not only the caller's own.
  const file = id ? ctx.store.filesByToken.get(id) : undefined;
  if (!file) throw new KoError(404, MESSAGES.notFound);
  const answer: DownloadTokenResult = {
    status: 'OK',
    url: ctx.issueDownloadUrl(file),
    message: 'One-shot direct link, valid 5 minutes',
  };
  return ok(answer);
}

function userInfo(ctx: ApiContext): ApiReply {
  const { account, opts, store, ip } = ctx;
  const now = Date.now();
  // 1fichier's documented limit is two at once: 1 call per minute per IP and 1 per 5 minutes per user.
  const lastFromIp = store.userInfoByIp.get(ip);
  const ipTooSoon = lastFromIp !== undefined && now - lastFromIp < opts.userInfoMinIntervalMs;
  const keyTooSoon =
    account.lastUserInfoAt !== undefined && now - account.lastUserInfoAt < opts.userInfoKeyMinIntervalMs;
  if (ipTooSoon || keyTooSoon) {
    store.stats.floodAnswers++;
    throw new KoError(403, MESSAGES.userFlood);
  }
  account.lastUserInfoAt = now;
  store.userInfoByIp.set(ip, now);
  const used = [...account.files.values()].reduce((sum, f) => sum + f.size, 0);
  const premium = account.tier === 'premium';
  const answer: UserInfoResult = {
    status: 'OK',
    email: account.email,
    offer: premium ? 1 : 0,
    '2fa': 0,
    subscription_end: premium ? dateOf(ctx, new Date(now + 365 * 86_400_000)) : '',
    cdn: 0,
    hot_storage: used,
    cold_storage: 0,
    available_cold_storage: 0,
    allowed_cold_storage: 0,
    available_storage: Math.max(0, 1e12 - used),
    overquota: 0,
    upload_forbidden: 0,
    ru_report: 0,
  };
  return ok(answer);
}

/**
 * The endpoints by `<family>/<verb>.cgi`. remote/request.cgi is premium-only because docs/1fichier-api.md, "Open questions and how the relay hedges them"
 * says Premium/Access is assumed for the API (whether a free key may call it is unverified).
 */
export const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map<string, Endpoint>([
  ['remote/request.cgi', { premium: true, handle: remoteRequest }],
  ['remote/ls.cgi', { premium: false, handle: remoteList }],
  ['remote/info.cgi', { premium: false, handle: remoteInfo }],
  ['folder/ls.cgi', { premium: false, handle: folderList }],
  ['folder/mkdir.cgi', { premium: false, handle: folderMkdir }],
  ['file/info.cgi', { premium: false, handle: fileInfoHandler }],
  ['download/get_token.cgi', { premium: true, handle: downloadToken }],
  ['user/info.cgi', { premium: false, handle: userInfo }],
]);
