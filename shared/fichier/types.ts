/**
 * 1fichier wire types (docs/1fichier-api.md, "Endpoints") and the client surface the rest of the relay
 * uses. Numbers on the wire are parsed leniently (1fichier sends some as strings; see `wire.ts`); a
 * missing `status` is success.
 */

export type FichierStatus = 'OK' | 'KO';

/** Body of POST remote/request.cgi. */
export interface RemoteRequestBody {
  urls: string[];
  folder_id?: number;
  headers?: Record<string, string>;
}

/** Answer of remote/request.cgi. */
export interface RemoteRequestResult {
  status?: FichierStatus;
  id: number;
  date?: string;
  urls?: string[];
  headers?: Record<string, string>;
  message?: string;
}

/** One entry of remote/ls.cgi `data`. */
export interface RemoteListEntry {
  id: number;
  request_date: string;
  /** Empty or `1970-01-01 00:00:00` while the request has not executed. */
  execution_date: string;
}

/** Per-URL result inside remote/info.cgi. */
export interface RemoteUrlResult {
  status: FichierStatus;
  url: string;
  download_link?: string;
  message?: string;
}

/** Answer of remote/info.cgi. */
export interface RemoteInfoResult {
  id: number;
  request_date: string;
  execution_date: string;
  links?: string[];
  result?: RemoteUrlResult[];
  status?: FichierStatus;
  message?: string;
}

export interface SubFolder {
  id: number;
  name: string;
  create_date?: string;
  pass?: number;
}

/** Answer of folder/ls.cgi. */
export interface FolderListResult {
  folder_id: number;
  name: string;
  create_date?: string;
  sub_folders: SubFolder[];
  items?: FileInfoResult[];
}

/** Answer of folder/mkdir.cgi. */
export interface MkdirResult {
  status?: FichierStatus;
  folder_id: number;
  name: string;
  message?: string;
}

/** Answer of file/info.cgi. */
export interface FileInfoResult {
  url: string;
  filename: string;
  size: number;
  date?: string;
  folder_id?: number;
  path?: string;
  checksum?: string;
  content_type?: string;
}

/** Answer of download/get_token.cgi. */
export interface DownloadTokenResult {
  status?: FichierStatus;
  url: string;
  message?: string;
}

/** Answer of user/info.cgi (fields vary in type on the wire; parsed leniently). */
export interface UserInfoResult {
  email: string;
  /** 0 none, 1 Premium, 2 Access. */
  offer: number;
  subscription_end?: string;
  available_storage?: number;
  upload_forbidden?: number;
  [field: string]: unknown;
}

/** Pending while execution_date is empty or the 1970 sentinel (docs/1fichier-api.md, "Endpoints the relay calls"). */
export function isRemotePending(executionDate: string | undefined | null): boolean {
  return !executionDate || executionDate.startsWith('1970-01-01');
}

/** The client surface every other module codes against (implemented in `shared/fichier/client.ts`). */
export interface FichierApi {
  remoteRequest(body: RemoteRequestBody): Promise<RemoteRequestResult>;
  remoteList(): Promise<RemoteListEntry[]>;
  remoteInfo(id: number): Promise<RemoteInfoResult>;
  folderList(folderId?: number): Promise<FolderListResult>;
  folderMkdir(name: string, parentId?: number): Promise<MkdirResult>;
  /** Resolves `Feeds/Podcasts` to a folder id, creating missing parts; cached. Empty path → 0 (root). */
  resolveFolder(path: string): Promise<number>;
  fileInfo(url: string): Promise<FileInfoResult>;
  downloadToken(url: string): Promise<DownloadTokenResult>;
  /**
   * Cached for at least 5 minutes: 1fichier blocks IPs that poll it. `probe`: the half-open probe of an
   * open auth circuit, which skips the cache and is the one call allowed while the circuit is open.
   */
  userInfo(opts?: { probe?: boolean }): Promise<UserInfoResult>;
}

/** Where the client gets its key: cached, and re-read once after an auth error (key rotation). */
export interface KeyProvider {
  get(): Promise<string>;
  /** Drops any cache and reads the key again. */
  refresh(): Promise<string>;
}
