/**
 * Folder paths over the client: `Feeds/Podcasts` → a folder id, creating missing parts with
 * folder/mkdir.cgi. Resolved parts are cached per key, since folder listings are limited to one per
 * folder every 30 s (docs/1fichier-api.md, "Rate limits").
 */
import { FichierApiError, FichierError } from './errors.js';
import type { FolderListResult, MkdirResult } from './types.js';

/** Longest folder name folder/mkdir.cgi accepts (docs/1fichier-api.md, "Folders"). */
export const MAX_FOLDER_NAME_LENGTH = 250;

/** A folder name as 1fichier accepts it, trimmed; throws a {@link FichierError} otherwise. */
export function validateFolderName(name: string): string {
  const n = name.trim();
  if (!n) throw new FichierError('folder name must not be empty');
  if (n.length > MAX_FOLDER_NAME_LENGTH) {
    throw new FichierError(
      `folder name longer than ${MAX_FOLDER_NAME_LENGTH} characters: ${n.slice(0, 40)}…`,
    );
  }
  if (n.includes('/')) throw new FichierError(`folder name must not contain "/": ${n}`);
  return n;
}

/** The calls the resolver makes. */
export interface FolderCalls {
  folderList(folderId?: number): Promise<FolderListResult>;
  folderMkdir(name: string, parentId?: number): Promise<MkdirResult>;
  /** The pacer key id of the key in use: the cache is per key. */
  keyId(): Promise<string>;
}

/** A cached resolver of folder paths. */
export interface FolderResolver {
  /** `Feeds/Podcasts` → folder id, creating missing parts; empty path → 0 (root). */
  resolve(path: string): Promise<number>;
  clear(): void;
}

/** Builds a {@link FolderResolver} over the client's calls. */
export function createFolderResolver(calls: FolderCalls): FolderResolver {
  const cache = new Map<string, Promise<number>>();

  async function findOrCreate(name: string, parentId: number): Promise<number> {
    const existing = (await calls.folderList(parentId)).sub_folders.find((f) => f.name === name);
    if (existing) return existing.id;
    try {
      return (await calls.folderMkdir(name, parentId)).folder_id;
    } catch (err) {
      // Another process may have created it between our ls and mkdir (1fichier's text for that is not
      // known, so it is a refusal or an unknown answer): look once more before failing.
      if (err instanceof FichierApiError && (err.kind === 'rejected' || err.kind === 'unknown')) {
        const raced = (await calls.folderList(parentId)).sub_folders.find((f) => f.name === name);
        if (raced) return raced.id;
      }
      throw err;
    }
  }

  return {
    async resolve(path: string): Promise<number> {
      const parts = path
        .split('/')
        .map((p) => p.trim())
        .filter((p) => p.length > 0)
        .map(validateFolderName);
      if (parts.length === 0) return 0;
      const keyId = await calls.keyId();
      let parentId = 0;
      for (let i = 0; i < parts.length; i++) {
        const cacheKey = `${keyId}\u0000${parts.slice(0, i + 1).join('/')}`;
        let pending = cache.get(cacheKey);
        if (!pending) {
          pending = findOrCreate(parts[i] as string, parentId);
          cache.set(cacheKey, pending);
          pending.catch(() => cache.delete(cacheKey));
        }
        parentId = await pending;
      }
      return parentId;
    },
    clear: () => cache.clear(),
  };
}
