/**
 * The signing secret of a signed token is needed in clear to verify an HMAC, so it cannot be stored as a
 * hash like the token. It is stored sealed (AES-256-GCM) under a key derived from the token itself
 * (HKDF-SHA256): every signed request carries the token, so the relay can open the secret exactly when
 * it must verify, while the table alone (a backup, an export, a read-only role) yields neither the token
 * (only its sha256 is stored) nor the signing secret.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const SALT = 'fichier-relay';
const INFO = 'token signing secret v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function keyFor(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), SALT, INFO, 32));
}

/** Seals `secret` under a key derived from `token`: base64url of iv ‖ tag ‖ ciphertext. */
export function sealSecret(secret: string, token: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(token), iv);
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
}

/** Opens what {@link sealSecret} sealed; undefined when `token` is not the one it was sealed with. */
export function openSecret(sealed: string, token: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(token), raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}
