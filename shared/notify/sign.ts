/**
 * Standard Webhooks signatures (spec v1.0.0, symmetric `v1` scheme): HMAC-SHA256 with the secret's bytes
 * over `{webhook-id}.{webhook-timestamp}.{body}`, base64, sent as `v1,<sig>`. Computed with node:crypto,
 * as the `standardwebhooks` library computes it (the tests check ours against the library, which is a
 * dev dependency only: its pure-JS SHA-256 and base64 were 12 KiB of every bundle that signs).
 * Outbound deliveries are signed with every active secret (rotation overlap); inbound signed tokens are
 * verified here against an injected clock.
 */
import { createHash, createHmac, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import {
  InvalidMessageIdError,
  InvalidSigningSecretError,
  SignatureVerificationError,
  type VerifyFailureReason,
} from './errors.js';

/** Prefix of a serialised symmetric secret (Standard Webhooks "secret serialization"). */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** Bytes of a generated secret. The spec asks for 24 to 64 (192 to 512 bits). */
export const SIGNING_SECRET_BYTES = 32;

/** How long the previous secret keeps signing after a rotation, so receivers can switch without a gap. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** Accepted distance between `webhook-timestamp` and now, in seconds (the library's and Stripe's 5 min). */
export const DEFAULT_TOLERANCE_S = 300;

/** The three headers of a signed delivery. */
// A type, not an interface, so that it is assignable to the header records verifyInbound reads.
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * A new signing secret: `whsec_` + base64 of {@link SIGNING_SECRET_BYTES} random bytes. One per account,
 * shown once (Standard Webhooks: unique per endpoint or customer).
 * @example generateSigningSecret() // 'whsec_3q2+7w…'
 */
export function generateSigningSecret(randomBytes: (n: number) => Uint8Array = nodeRandomBytes): string {
  return SIGNING_SECRET_PREFIX + Buffer.from(randomBytes(SIGNING_SECRET_BYTES)).toString('base64');
}

/** Signs one message: `v1,` + base64 of the HMAC-SHA256 of `{id}.{unix seconds}.{body}` with `key`. */
type Signer = { sign(id: string, timestamp: Date, body: string | Buffer): string };

/**
 * The signer for a secret, after checking it is `whsec_`-prefixed (or bare) base64 of 24 to 64 bytes.
 * The error never quotes the secret.
 */
function signerFor(secret: string): Signer {
  const bare = secret.startsWith(SIGNING_SECRET_PREFIX) ? secret.slice(SIGNING_SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(bare) || bare.length % 4 !== 0) {
    throw new InvalidSigningSecretError('signing secret must be "whsec_" followed by base64');
  }
  const bytes = Buffer.from(bare, 'base64').length;
  if (bytes < 24 || bytes > 64) {
    throw new InvalidSigningSecretError(`signing secret must hold 24 to 64 bytes, this one holds ${bytes}`);
  }
  const key = Buffer.from(bare, 'base64');
  return {
    sign(id, timestamp, body) {
      // As the library does: the body as UTF-8 text, the timestamp in whole seconds.
      const text = typeof body === 'string' ? body : body.toString('utf8');
      const seconds = Math.floor(timestamp.getTime() / 1000);
      return `v1,${createHmac('sha256', key).update(`${id}.${seconds}.${text}`, 'utf8').digest('base64')}`;
    },
  };
}

/** The secrets that sign right now: the current one, plus the previous one during its overlap. */
export function activeSigningSecrets(
  secrets: { current: string; previous?: { secret: string; rotatedAt: number } },
  nowMs: number,
  overlapMs: number = ROTATION_OVERLAP_MS,
): string[] {
  const { previous } = secrets;
  if (previous && nowMs < previous.rotatedAt + overlapMs && previous.secret !== secrets.current) {
    return [secrets.current, previous.secret];
  }
  return [secrets.current];
}

/**
 * Headers of one delivery attempt. `timestamp` is the attempt time (a retry gets a new one; `id` stays).
 * With several secrets, `webhook-signature` holds one `v1,<sig>` per secret, space-separated, in order:
 * a receiver holding either secret verifies it.
 * @example signDelivery({ id: 'msg_…', timestamp: new Date(), body, secrets: [current, previous] })
 */
export function signDelivery(input: {
  id: string;
  timestamp: Date;
  body: string;
  secrets: readonly string[];
}): WebhookHeaders {
  if (!/^[^.\s]+$/.test(input.id)) {
    throw new InvalidMessageIdError(
      `webhook-id ${JSON.stringify(input.id)} must be non-empty, without "." or spaces`,
    );
  }
  const secrets = [...new Set(input.secrets)];
  if (secrets.length === 0) throw new InvalidSigningSecretError('at least one signing secret is required');
  const signatures = secrets.map((s) => signerFor(s).sign(input.id, input.timestamp, input.body));
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** Request headers as Node, undici or Hono give them. */
export type InboundHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

function headerOf(headers: InboundHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return typeof value === 'string' ? value : value?.[0];
}

function fail(reason: VerifyFailureReason, message: string): never {
  throw new SignatureVerificationError(reason, message);
}

// Hashing both sides first gives timingSafeEqual equal lengths whatever the caller sent.
function sameSignature(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Verifies an inbound request signed per Standard Webhooks (tokens created with `signed: true`).
 * Checks, in order: the three headers are present, the timestamp is an integer within `toleranceS` of
 * `nowMs` (replay protection), and one `v1` signature matches one of the secrets over the raw body.
 * Returns the `webhook-id` (the idempotency key to remember) and timestamp; throws
 * {@link SignatureVerificationError} with a `reason` otherwise.
 *
 * The library's own `verify` reads `Date.now()` with a fixed 5 min tolerance; here the clock is injected.
 */
export function verifyInbound(input: {
  headers: InboundHeaders;
  /** The raw body exactly as received: re-serialised JSON does not verify. */
  body: string | Buffer;
  /** The token's secret, or the current and previous one during a rotation overlap. */
  secret: string | readonly string[];
  /** @default 300 */
  toleranceS?: number;
  nowMs: number;
}): { id: string; timestamp: number } {
  const id = headerOf(input.headers, 'webhook-id')?.trim();
  const rawTimestamp = headerOf(input.headers, 'webhook-timestamp')?.trim();
  const signatureHeader = headerOf(input.headers, 'webhook-signature')?.trim();
  const missing = [
    !id && 'webhook-id',
    !rawTimestamp && 'webhook-timestamp',
    !signatureHeader && 'webhook-signature',
  ].filter(Boolean);
  if (!id || !rawTimestamp || !signatureHeader) fail('missingHeader', `missing ${missing.join(', ')}`);

  if (!/^\d{1,12}$/.test(rawTimestamp)) fail('invalidTimestamp', 'webhook-timestamp must be unix seconds');
  const timestamp = Number(rawTimestamp);
  const toleranceS = input.toleranceS ?? DEFAULT_TOLERANCE_S;
  const nowS = Math.floor(input.nowMs / 1000);
  if (nowS - timestamp > toleranceS) {
    fail('staleTimestamp', `timestamp is ${nowS - timestamp} s old, more than ${toleranceS} s`);
  }
  if (timestamp - nowS > toleranceS) {
    fail('futureTimestamp', `timestamp is ${timestamp - nowS} s ahead, more than ${toleranceS} s`);
  }

  const body = typeof input.body === 'string' ? input.body : Buffer.from(input.body);
  const secrets = typeof input.secret === 'string' ? [input.secret] : [...input.secret];
  const expected = secrets.map((s) => signerFor(s).sign(id, new Date(timestamp * 1000), body));
  const passed = signatureHeader.split(/\s+/).filter((s) => s.startsWith('v1,'));
  const match = passed.some((p) => expected.some((e) => sameSignature(p, e)));
  if (!match) fail('signatureMismatch', 'no v1 signature matches the body');
  return { id, timestamp };
}
