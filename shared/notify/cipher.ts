/**
 * Encryption at rest for the secrets inside notification targets (an IFTTT key, a Telegram bot token, a
 * webhook URL that is itself the credential) and for signing secrets: AES-256-GCM with a 32-byte key that
 * never sits in the table. Locally the key is a file with mode 0600 in the data dir; in AWS it is a
 * Secrets Manager secret only the functions that need it may read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { NotifyError } from './errors.js';

/** Seals and opens small secrets. */
export interface SecretCipher {
  /** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  seal(plain: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

/** A sealed value that does not open with this key (wrong key, or tampered). */
export class SecretCipherError extends NotifyError {
  override readonly name = 'SecretCipherError';
}

/** Bytes of the AES-256 key. */
export const CIPHER_KEY_BYTES = 32;

/** Parses a key given as 64 hex digits or base64 of 32 bytes; the error never quotes it. */
export function parseCipherKey(text: string): Buffer {
  const t = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (bytes.length !== CIPHER_KEY_BYTES) {
    throw new SecretCipherError(`the notification key must be ${CIPHER_KEY_BYTES} bytes (64 hex digits)`);
  }
  return bytes;
}

/**
 * AES-256-GCM over a key loaded once (lazily, so a Lambda that never touches a secret never reads it).
 * @example const cipher = aesGcmCipher(async () => parseCipherKey(readFileSync(file, 'utf8')));
 */
export function aesGcmCipher(loadKey: () => Promise<Buffer>): SecretCipher {
  let key: Promise<Buffer> | undefined;
  const getKey = () => {
    key ??= loadKey().catch((err) => {
      key = undefined;
      throw err;
    });
    return key;
  };
  return {
    async seal(plain) {
      const k = await getKey();
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', k, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', iv, c.getAuthTag(), body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    async open(sealed) {
      const k = await getKey();
      const [v, iv, tag, body] = sealed.split('.');
      if (v !== 'v1' || iv === undefined || tag === undefined || body === undefined) {
        throw new SecretCipherError('sealed value has an unknown format');
      }
      try {
        const d = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
        d.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
      } catch (cause) {
        throw new SecretCipherError('sealed value does not open with this key', { cause });
      }
    },
  };
}
