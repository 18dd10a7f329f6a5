/** The pure parts of tokens: scopes, input checks, what is shown, sealed secrets, and usage counting. */
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../../shared/jobs/ids.js';
import { issueToken, registerToken, TokenForbiddenError } from '../../../shared/tokens/manage.js';
import {
  checkTokenName,
  InvalidTokenInputError,
  presentToken,
  SCOPES,
  type StoredToken,
  scopeAllows,
} from '../../../shared/tokens/model.js';
import { openSecret, sealSecret } from '../../../shared/tokens/sealed-secret.js';
import { UsageMeter } from '../../../shared/tokens/usage.js';

describe('scopeAllows', () => {
  it('admin ⊃ full ⊃ {submit, read}, and submit and read are disjoint', () => {
    const table = Object.fromEntries(
      SCOPES.map((have) => [have, SCOPES.filter((need) => scopeAllows(have, need))]),
    );
    expect(table).toEqual({
      admin: ['admin', 'full', 'submit', 'read'],
      full: ['full', 'submit', 'read'],
      submit: ['submit'],
      read: ['read'],
    });
  });
});

describe('token input and presentation', () => {
  it('refuses empty, long and control-character names', () => {
    for (const bad of ['', '   ', 'x'.repeat(65), 'a\nb', 'a\u0000b']) {
      expect(() => checkTokenName(bad)).toThrow(InvalidTokenInputError);
    }
    expect(checkTokenName('  zapier  ')).toBe('zapier');
  });

  it('never shows the sealed secret', () => {
    const t: StoredToken = {
      id: 'tok_abcdefghijklmnop',
      userId: 'u',
      name: 'n',
      scope: 'read',
      createdAt: 0,
      signed: true,
      sealedSecret: 'sealed',
    };
    expect(JSON.stringify(presentToken(t))).not.toContain('sealed');
    expect(presentToken(t)).toEqual({
      id: t.id,
      user: 'u',
      name: 'n',
      scope: 'read',
      signed: true,
      createdAt: '1970-01-01T00:00:00.000Z',
      lastUsedAt: null,
    });
  });
});

function memoryTokens() {
  const items = new Map<string, StoredToken>();
  return {
    items,
    putToken: async (hash: string, t: StoredToken) => void items.set(hash, t),
    tokenByHash: async (hash: string) => items.get(hash),
  };
}

describe('issueToken', () => {
  const clock = { now: () => 1_000 };

  it('stores only the hash, and seals the signing secret under the token', async () => {
    const tokens = memoryTokens();
    const issued = await issueToken(
      { name: 'gh', signed: true },
      { userId: 'u', scope: 'full' },
      { tokens, clock },
    );
    expect(issued.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const stored = tokens.items.get(hashToken(issued.token));
    expect(stored?.sealedSecret).toBeDefined();
    expect(JSON.stringify([...tokens.items])).not.toContain(issued.token);
    expect(JSON.stringify([...tokens.items])).not.toContain(issued.signingSecret?.slice(6));
    expect(openSecret(stored?.sealedSecret ?? '', issued.token)).toBe(issued.signingSecret);
  });

  it('refuses a wider scope or another user to a non-admin caller', async () => {
    const deps = { tokens: memoryTokens(), clock };
    await expect(
      issueToken({ name: 'x', scope: 'admin' }, { userId: 'u', scope: 'full' }, deps),
    ).rejects.toThrow(TokenForbiddenError);
    await expect(
      issueToken({ name: 'x', scope: 'full' }, { userId: 'u', scope: 'submit' }, deps),
    ).rejects.toThrow(TokenForbiddenError);
    await expect(issueToken({ name: 'x', user: 'v' }, { userId: 'u', scope: 'full' }, deps)).rejects.toThrow(
      TokenForbiddenError,
    );
    const ok = await issueToken(
      { name: 'x', user: 'v', scope: 'admin' },
      { userId: 'u', scope: 'admin' },
      deps,
    );
    expect(ok.record).toMatchObject({ userId: 'v', scope: 'admin' });
  });

  it('registerToken keeps an existing token as it is and completes a legacy one', async () => {
    const tokens = memoryTokens();
    const first = await registerToken(tokens, { token: 't1', userId: 'u', scope: 'admin' }, 5);
    expect(await registerToken(tokens, { token: 't1', userId: 'u', scope: 'read' }, 9)).toEqual(first);
    tokens.items.set(hashToken('t2'), { ...first, id: 'tok_legacy', legacy: true });
    const completed = await registerToken(tokens, { token: 't2', userId: 'u', scope: 'admin' }, 9);
    expect(completed.id).not.toBe('tok_legacy');
    expect(completed.scope).toBe('admin');
  });
});

describe('sealed signing secrets', () => {
  it('open only with the token they were sealed under, and are never the same twice', () => {
    const sealed = sealSecret('whsec_abc', 'fr_token');
    expect(openSecret(sealed, 'fr_token')).toBe('whsec_abc');
    expect(openSecret(sealed, 'fr_other')).toBeUndefined();
    expect(openSecret('short', 'fr_token')).toBeUndefined();
    expect(sealSecret('whsec_abc', 'fr_token')).not.toBe(sealed);
  });
});

describe('UsageMeter', () => {
  function counter() {
    const writes: { delta: number; windowStart: number; lastUsedAt: number }[] = [];
    let total = 0;
    let window = -1;
    return {
      writes,
      extra: (n: number) => {
        total += n;
      },
      addUsage: async (_hash: string, u: { windowStart: number; delta: number; lastUsedAt: number }) => {
        writes.push(u);
        if (u.windowStart !== window) {
          window = u.windowStart;
          total = 0;
        }
        total += u.delta;
        return total;
      },
    };
  }

  it('writes at most once per flush interval per token, carrying lastUsedAt, not once per request', async () => {
    const store = counter();
    let now = 60_000;
    const meter = new UsageMeter(store, { now: () => now }, 1000, { flushMs: 5_000 });
    for (let i = 0; i <= 50; i++) {
      expect((await meter.hit('h')).ok).toBe(true);
      now += 100; // 51 requests over 5 s
    }
    expect(store.writes.map((w) => w.delta)).toEqual([1, 50]);
    expect(store.writes[1]?.lastUsedAt).toBe(65_000);
  });

  it('refuses once the shared total plus local uses reach the limit, with the seconds left in the window', async () => {
    const store = counter();
    let now = 120_000;
    const meter = new UsageMeter(store, { now: () => now }, 3, { flushMs: 5_000 });
    expect((await meter.hit('h')).ok).toBe(true); // written: 1
    store.extra(1); // another instance's flushed use
    now += 5_000;
    expect((await meter.hit('h')).ok).toBe(true); // written: 3 in all
    now += 1_000;
    expect(await meter.hit('h')).toEqual({ ok: false, reason: 'limited', retryAfterS: 54 });
    now = 180_000;
    expect((await meter.hit('h')).ok).toBe(true);
  });

  it('reports a token whose item is gone as revoked, and keeps counting when a write fails', async () => {
    let fail = true;
    const meter = new UsageMeter(
      {
        addUsage: async () => {
          if (fail) throw new Error('throttled');
          return undefined;
        },
      },
      { now: () => 0 },
      10,
    );
    expect((await meter.hit('h')).ok).toBe(true);
    fail = false;
    expect(await meter.hit('h')).toEqual({ ok: false, reason: 'revoked' });
  });
});
