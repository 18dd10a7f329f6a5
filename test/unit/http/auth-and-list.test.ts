import { describe, expect, it } from 'vitest';
import { tokenFromHeaders, tokenResolver } from '../../../shared/http/auth.js';
import { HttpError } from '../../../shared/http/errors.js';
import { parseListQuery } from '../../../shared/http/job-input.js';
import { hashToken } from '../../../shared/jobs/ids.js';

const basic = (credentials: string | Buffer) =>
  `Basic ${Buffer.from(credentials as string).toString('base64')}`;

describe('tokenFromHeaders', () => {
  it('takes the Bearer token, else the X-Api-Key', () => {
    expect(tokenFromHeaders('Bearer abc', undefined)).toBe('abc');
    expect(tokenFromHeaders(undefined, ' key ')).toBe('key');
  });

  it('takes HTTP Basic: the token as the password with any username (Zapier), or as the username', () => {
    expect(tokenFromHeaders(basic('zapier:fr_tok'), undefined)).toBe('fr_tok');
    expect(tokenFromHeaders(basic(':fr_tok'), undefined)).toBe('fr_tok');
    expect(tokenFromHeaders(basic('fr_tok:'), undefined)).toBe('fr_tok');
    expect(tokenFromHeaders(`basic ${Buffer.from('x:fr_tok').toString('base64')}`, undefined)).toBe('fr_tok');
  });

  it.each([
    ['empty credentials', basic(':')],
    ['no colon', basic('fr_tok')],
    ['not base64', 'Basic !!!notbase64'],
    ['bad base64 padding', 'Basic YWJj='],
    ['not UTF-8', basic(Buffer.from([0x78, 0x3a, 0xff, 0xfe]))],
    ['nothing after Basic', 'Basic '],
  ])('refuses Basic auth with %s', (_name, header) => {
    expect(tokenFromHeaders(header, 'fallback-key')).toBeUndefined();
  });

  it('lets a malformed Authorization header win over a good X-Api-Key, so it fails', () => {
    expect(tokenFromHeaders('Digest abc', 'key')).toBeUndefined();
    expect(tokenFromHeaders('Bearer a b', 'key')).toBeUndefined();
  });
});

describe('tokenResolver', () => {
  const store = (known: Record<string, string>) => {
    const reads: string[] = [];
    return {
      reads,
      tokenByHash: async (hash: string) => {
        reads.push(hash);
        const userId = known[hash];
        return userId === undefined
          ? undefined
          : {
              id: `tok_${hash.slice(0, 16)}`,
              userId,
              name: 't',
              scope: 'full' as const,
              createdAt: 0,
              signed: false,
            };
      },
    };
  };

  it('resolves a known token by its hash and remembers it for at most 4 s (revocation within 5 s)', async () => {
    const s = store({ [hashToken('tok')]: 'u1' });
    let now = 0;
    const resolve = tokenResolver(s, { now: () => now });

    expect((await resolve('tok')).token.userId).toBe('u1');
    now = 3_999;
    expect((await resolve('tok')).token.userId).toBe('u1');
    expect(s.reads).toEqual([hashToken('tok')]);
    now = 4_000;
    await resolve('tok');
    expect(s.reads).toHaveLength(2);
  });

  it('forgets a token by its public id at once', async () => {
    const s = store({ [hashToken('tok')]: 'u1' });
    const resolve = tokenResolver(s, { now: () => 0 });
    const { token } = await resolve('tok');
    resolve.forget(token.id);
    await resolve('tok');
    expect(s.reads).toHaveLength(2);
  });

  it('answers 401 for a missing, unknown or oversized token', async () => {
    const s = store({});
    const resolve = tokenResolver(s, { now: () => 0 });

    for (const token of [undefined, 'nope', 'x'.repeat(201)]) {
      const err = await resolve(token).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(401);
    }
    expect(s.reads).toEqual([hashToken('nope')]);
  });
});

describe('parseListQuery', () => {
  it('defaults to 50 jobs of any status', () => {
    expect(parseListQuery({})).toEqual({ limit: 50 });
  });

  it('passes a valid status, limit and cursor through', () => {
    expect(parseListQuery({ status: 'done', limit: '100', cursor: 'abc' })).toEqual({
      status: 'done',
      limit: 100,
      cursor: 'abc',
    });
  });

  it.each([
    [{ status: 'finished' }, 'invalidStatus'],
    [{ limit: '0' }, 'invalidLimit'],
    [{ limit: '101' }, 'invalidLimit'],
    [{ limit: '1.5' }, 'invalidLimit'],
    [{ cursor: '' }, 'invalidCursor'],
    [{ cursor: 'c'.repeat(2001) }, 'invalidCursor'],
  ])('refuses %j with 400 %s', (query, code) => {
    let err: unknown;
    try {
      parseListQuery(query);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 400, code });
  });
});
