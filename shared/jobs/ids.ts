import { createHash, randomBytes } from 'node:crypto';

/**
 * The job id is the dedupe key: the same user, normalised URL and folder always give the same id, so
 * creating a job and checking for a duplicate is one conditional put.
 */
export function jobIdFor(userId: string, normalisedUrl: string, folder: string): string {
  return createHash('sha256')
    .update(`${userId}\u0000${normalisedUrl}\u0000${folder}`, 'utf8')
    .digest('base64url')
    .slice(0, 22);
}

/** sha256 (hex) of a client token: tokens are stored and looked up only by this hash. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new client token (256 bits, URL-safe). */
export function generateToken(): string {
  return `fr_${randomBytes(32).toString('base64url')}`;
}

/** A random claim token for one worker's hold on a job. */
export function newClaimToken(): string {
  return randomBytes(9).toString('base64url');
}
