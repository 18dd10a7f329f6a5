import { describe, expect, it } from 'vitest';
import { bearerOrApiKey, tokenResolver } from '../../../shared/http/auth.js';
import { HttpError } from '../../../shared/http/errors.js';
import { parseListQuery } from '../../../shared/http/job-input.js';
import { hashToken } from '../../../shared/jobs/ids.js';

describe('bearerOrApiKey', () => {
  it('takes the Bearer token, else the X-Api-Key', () => {
    expect(bearerOrApiKey('Bearer abc', undefined)).toBe('abc');
    expect(bearerOrApiKey(undefined, ' key ')).toBe('key');
  });

  it('lets a malformed Authorization header win over a good X-Api-Key, so it fails', () => {
    expect(bearerOrApiKey('Basic dXNlcjpwYXNz', 'key')).toBeUndefined();
    expect(bearerOrApiKey('Bearer a b', 'key')).toBeUndefined();
  });
});

describe('tokenResolver', () => {
  const store = (known: Record<string, string>) => {
    const reads: string[] = [];
    return {
      reads,
      userForToken: async (hash: string) => {
        reads.push(hash);
        return known[hash];
      },
    };
  };

  it('resolves a known token by its hash and remembers it for a minute', async () => {
    const s = store({ [hashToken('tok')]: 'u1' });
    let now = 0;
    const resolve = tokenResolver(s, { now: () => now });

    expect(await resolve('tok')).toBe('u1');
    expect(await resolve('tok')).toBe('u1');
    expect(s.reads).toEqual([hashToken('tok')]);
    now = 60_001;
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
