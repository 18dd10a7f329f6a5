import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  InvalidMessageIdError,
  InvalidSigningSecretError,
  SignatureVerificationError,
  type VerifyFailureReason,
} from '../../../shared/notify/errors.js';
import {
  activeSigningSecrets,
  generateSigningSecret,
  ROTATION_OVERLAP_MS,
  signDelivery,
  verifyInbound,
} from '../../../shared/notify/sign.js';

// The vector of the standardwebhooks library's own test "sign function works"
// (libraries/javascript/src/webhook.test.ts in standard-webhooks/standard-webhooks).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestampS: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const OTHER_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function vectorHeaders(): Record<string, string> {
  return {
    'webhook-id': VECTOR.id,
    'webhook-timestamp': String(VECTOR.timestampS),
    'webhook-signature': VECTOR.signature,
  };
}

function reasonOf(fn: () => unknown): VerifyFailureReason | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureVerificationError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('signDelivery', () => {
  it('reproduces the Standard Webhooks test vector', () => {
    const headers = signDelivery({
      id: VECTOR.id,
      timestamp: new Date(VECTOR.timestampS * 1000),
      body: VECTOR.body,
      secrets: [VECTOR.secret],
    });

    expect(headers).toEqual(vectorHeaders());
  });

  it('signs the same with the bare base64 secret as with the whsec_ prefix', () => {
    const bare = VECTOR.secret.slice('whsec_'.length);

    const headers = signDelivery({
      id: VECTOR.id,
      timestamp: new Date(VECTOR.timestampS * 1000),
      body: VECTOR.body,
      secrets: [bare],
    });

    expect(headers['webhook-signature']).toBe(VECTOR.signature);
  });

  it('writes the timestamp as whole unix seconds', () => {
    const headers = signDelivery({
      id: VECTOR.id,
      timestamp: new Date(VECTOR.timestampS * 1000 + 999),
      body: VECTOR.body,
      secrets: [VECTOR.secret],
    });

    expect(headers['webhook-timestamp']).toBe('1614265330');
  });

  it('gives one space-separated v1 entry per secret during a rotation overlap, current first', () => {
    const headers = signDelivery({
      id: VECTOR.id,
      timestamp: new Date(VECTOR.timestampS * 1000),
      body: VECTOR.body,
      secrets: [OTHER_SECRET, VECTOR.secret],
    });

    const entries = headers['webhook-signature'].split(' ');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(entries[1]).toBe(VECTOR.signature);
  });

  it('signs each distinct secret once', () => {
    const headers = signDelivery({
      id: VECTOR.id,
      timestamp: new Date(VECTOR.timestampS * 1000),
      body: VECTOR.body,
      secrets: [VECTOR.secret, VECTOR.secret],
    });

    expect(headers['webhook-signature']).toBe(VECTOR.signature);
  });

  it("passes the library's own verifier with either secret of a two-secret header", () => {
    const body = JSON.stringify({
      type: 'job.done',
      timestamp: '2026-03-01T10:00:00.000Z',
      data: { id: 'j1' },
    });

    const headers = signDelivery({
      id: 'msg_abc',
      timestamp: new Date(),
      body,
      secrets: [OTHER_SECRET, VECTOR.secret],
    });

    expect(new Webhook(OTHER_SECRET).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(VECTOR.secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('refuses an empty secret list', () => {
    const sign = () => signDelivery({ id: 'msg_1', timestamp: new Date(0), body: '{}', secrets: [] });

    expect(sign).toThrow(InvalidSigningSecretError);
  });

  it.each([
    ['not base64', 'whsec_not base64!'],
    ['shorter than 24 bytes', `whsec_${Buffer.alloc(16, 1).toString('base64')}`],
    ['longer than 64 bytes', `whsec_${Buffer.alloc(65, 1).toString('base64')}`],
  ])('refuses a secret that is %s, without quoting it', (_what, secret) => {
    let caught: unknown;
    try {
      signDelivery({ id: 'msg_1', timestamp: new Date(0), body: '{}', secrets: [secret] });
    } catch (err) {
      caught = err;
    }

    expect(caught).toBeInstanceOf(InvalidSigningSecretError);
    expect((caught as Error).message).not.toContain(secret.slice(6));
  });

  it.each(['', 'msg.1', 'msg 1'])('refuses the message id %j (empty, a "." or a space)', (id) => {
    const sign = () => signDelivery({ id, timestamp: new Date(0), body: '{}', secrets: [VECTOR.secret] });

    expect(sign).toThrow(InvalidMessageIdError);
  });
});

describe('generateSigningSecret', () => {
  it('makes whsec_ + base64 of 32 bytes from the random source', () => {
    const secret = generateSigningSecret((n) => new Uint8Array(n).fill(0xab));

    expect(secret).toBe(`whsec_${Buffer.alloc(32, 0xab).toString('base64')}`);
  });

  it('makes secrets that sign and verify', () => {
    const secret = generateSigningSecret();
    const now = Date.parse('2026-03-01T10:00:00Z');

    const headers = signDelivery({ id: 'msg_x', timestamp: new Date(now), body: 'hi', secrets: [secret] });

    expect(verifyInbound({ headers, body: 'hi', secret, nowMs: now })).toEqual({
      id: 'msg_x',
      timestamp: now / 1000,
    });
  });

  it('makes a different secret each time', () => {
    expect(generateSigningSecret()).not.toBe(generateSigningSecret());
  });
});

describe('activeSigningSecrets', () => {
  const rotatedAt = Date.parse('2026-03-01T10:00:00Z');
  const secrets = { current: 'whsec_new', previous: { secret: 'whsec_old', rotatedAt } };

  it('keeps the previous secret signing for 24 h after a rotation', () => {
    expect(activeSigningSecrets(secrets, rotatedAt + ROTATION_OVERLAP_MS - 1)).toEqual([
      'whsec_new',
      'whsec_old',
    ]);
  });

  it('drops the previous secret once the overlap has passed', () => {
    expect(activeSigningSecrets(secrets, rotatedAt + ROTATION_OVERLAP_MS)).toEqual(['whsec_new']);
  });

  it('is only the current secret when none was rotated', () => {
    expect(activeSigningSecrets({ current: 'whsec_new' }, rotatedAt)).toEqual(['whsec_new']);
  });
});

describe('verifyInbound', () => {
  const atVector = VECTOR.timestampS * 1000;

  it('accepts the test vector at its own time and returns its id and timestamp', () => {
    const result = verifyInbound({
      headers: vectorHeaders(),
      body: VECTOR.body,
      secret: VECTOR.secret,
      nowMs: atVector,
    });

    expect(result).toEqual({ id: VECTOR.id, timestamp: VECTOR.timestampS });
  });

  it('accepts a timestamp exactly 300 s old', () => {
    const verify = () =>
      verifyInbound({
        headers: vectorHeaders(),
        body: VECTOR.body,
        secret: VECTOR.secret,
        nowMs: atVector + 300_000,
      });

    expect(verify).not.toThrow();
  });

  it('rejects a timestamp more than 300 s old as stale', () => {
    const reason = reasonOf(() =>
      verifyInbound({
        headers: vectorHeaders(),
        body: VECTOR.body,
        secret: VECTOR.secret,
        nowMs: atVector + 301_000,
      }),
    );

    expect(reason).toBe('staleTimestamp');
  });

  it('rejects a timestamp more than 300 s ahead as from the future', () => {
    const reason = reasonOf(() =>
      verifyInbound({
        headers: vectorHeaders(),
        body: VECTOR.body,
        secret: VECTOR.secret,
        nowMs: atVector - 301_000,
      }),
    );

    expect(reason).toBe('futureTimestamp');
  });

  it('uses the tolerance it is given', () => {
    const reason = reasonOf(() =>
      verifyInbound({
        headers: vectorHeaders(),
        body: VECTOR.body,
        secret: VECTOR.secret,
        toleranceS: 10,
        nowMs: atVector + 11_000,
      }),
    );

    expect(reason).toBe('staleTimestamp');
  });

  it('rejects a tampered body', () => {
    const reason = reasonOf(() =>
      verifyInbound({
        headers: vectorHeaders(),
        body: '{"test": 2432232315}',
        secret: VECTOR.secret,
        nowMs: atVector,
      }),
    );

    expect(reason).toBe('signatureMismatch');
  });

  it('rejects re-serialised JSON (whitespace changed)', () => {
    const reason = reasonOf(() =>
      verifyInbound({
        headers: vectorHeaders(),
        body: '{"test":2432232314}',
        secret: VECTOR.secret,
        nowMs: atVector,
      }),
    );

    expect(reason).toBe('signatureMismatch');
  });

  it('rejects a body signed with another secret', () => {
    const reason = reasonOf(() =>
      verifyInbound({ headers: vectorHeaders(), body: VECTOR.body, secret: OTHER_SECRET, nowMs: atVector }),
    );

    expect(reason).toBe('signatureMismatch');
  });

  it('rejects a header whose only entry uses another scheme', () => {
    const headers = { ...vectorHeaders(), 'webhook-signature': VECTOR.signature.replace('v1,', 'v1a,') };

    const reason = reasonOf(() =>
      verifyInbound({ headers, body: VECTOR.body, secret: VECTOR.secret, nowMs: atVector }),
    );

    expect(reason).toBe('signatureMismatch');
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'rejects a request without %s',
    (name) => {
      const headers: Record<string, string> = vectorHeaders();
      delete headers[name];

      const reason = reasonOf(() =>
        verifyInbound({ headers, body: VECTOR.body, secret: VECTOR.secret, nowMs: atVector }),
      );

      expect(reason).toBe('missingHeader');
    },
  );

  it('rejects a timestamp that is not unix seconds', () => {
    const headers = { ...vectorHeaders(), 'webhook-timestamp': 'hello' };

    const reason = reasonOf(() =>
      verifyInbound({ headers, body: VECTOR.body, secret: VECTOR.secret, nowMs: atVector }),
    );

    expect(reason).toBe('invalidTimestamp');
  });

  it('names the failed check in the error message', () => {
    expect(() =>
      verifyInbound({ headers: {}, body: VECTOR.body, secret: VECTOR.secret, nowMs: atVector }),
    ).toThrow(/missingHeader.*webhook-id, webhook-timestamp, webhook-signature/);
  });

  it('accepts either secret while a rotation overlaps', () => {
    const verify = () =>
      verifyInbound({
        headers: vectorHeaders(),
        body: VECTOR.body,
        secret: [OTHER_SECRET, VECTOR.secret],
        nowMs: atVector,
      });

    expect(verify).not.toThrow();
  });

  it('finds one matching entry among several signatures', () => {
    const headers = {
      ...vectorHeaders(),
      'webhook-signature': `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${VECTOR.signature}`,
    };

    const verify = () =>
      verifyInbound({ headers, body: VECTOR.body, secret: VECTOR.secret, nowMs: atVector });

    expect(verify).not.toThrow();
  });

  it('reads a Fetch Headers object and mixed-case header names', () => {
    const fetchHeaders = new Headers(vectorHeaders());
    const upper = Object.fromEntries(Object.entries(vectorHeaders()).map(([k, v]) => [k.toUpperCase(), v]));

    const fromHeaders = verifyInbound({
      headers: fetchHeaders,
      body: VECTOR.body,
      secret: VECTOR.secret,
      nowMs: atVector,
    });
    const fromUpper = verifyInbound({
      headers: upper,
      body: VECTOR.body,
      secret: VECTOR.secret,
      nowMs: atVector,
    });

    expect(fromHeaders.id).toBe(VECTOR.id);
    expect(fromUpper.id).toBe(VECTOR.id);
  });

  it('verifies a Buffer body', () => {
    const verify = () =>
      verifyInbound({
        headers: vectorHeaders(),
        body: Buffer.from(VECTOR.body),
        secret: VECTOR.secret,
        nowMs: atVector,
      });

    expect(verify).not.toThrow();
  });
});
