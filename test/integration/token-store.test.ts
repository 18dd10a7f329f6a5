/** DynamoTokenStore on dynalite: lookups by hash, per-user listing, revocation, usage counters, replays. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenStore } from '../../shared/aws/dynamo-token-store.js';
import type { StoredToken } from '../../shared/tokens/model.js';
import { TokenConflictError } from '../../shared/tokens/store.js';
import { startTestAws, type TestAws } from '../support/engines.js';

let aws: TestAws;
let tableName: string;
let store: DynamoTokenStore;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const token = (id: string, userId: string, extra: Partial<StoredToken> = {}): StoredToken => ({
  id,
  userId,
  name: `name of ${id}`,
  scope: 'full',
  createdAt: T0,
  signed: false,
  ...extra,
});

beforeAll(async () => {
  aws = await startTestAws();
  ({ tableName } = await aws.fresh());
  store = new DynamoTokenStore(aws.doc, tableName);
});
afterAll(async () => {
  await aws?.close();
});

describe('DynamoTokenStore', () => {
  it('stores tokens by hash, refuses a hash for another user, and lists each user their own only', async () => {
    await store.putToken('h1', token('tok_aaaaaaaaaaaaaaa1', 'u1', { createdAt: T0 + 2 }));
    await store.putToken('h2', token('tok_aaaaaaaaaaaaaaa2', 'u1', { createdAt: T0 + 1, scope: 'read' }));
    await store.putToken('h3', token('tok_aaaaaaaaaaaaaaa3', 'u2'));
    await expect(store.putToken('h1', token('tok_bbbbbbbbbbbbbbb1', 'u2'))).rejects.toBeInstanceOf(
      TokenConflictError,
    );
    expect(await store.userForToken('h1')).toBe('u1');
    expect(await store.tokenByHash('nope')).toBeUndefined();
    expect((await store.listTokens('u1')).map((t) => [t.id, t.scope])).toEqual([
      ['tok_aaaaaaaaaaaaaaa2', 'read'],
      ['tok_aaaaaaaaaaaaaaa1', 'full'],
    ]);
    expect((await store.listTokens('u2')).map((t) => t.id)).toEqual(['tok_aaaaaaaaaaaaaaa3']);
  });

  it("revokes by id for its user only; another user's id is not found", async () => {
    expect(await store.revokeToken('u2', 'tok_aaaaaaaaaaaaaaa1')).toBe(false);
    expect(await store.tokenByHash('h1')).toBeDefined();
    expect(await store.revokeToken('u1', 'tok_aaaaaaaaaaaaaaa1')).toBe(true);
    expect(await store.tokenByHash('h1')).toBeUndefined();
    expect((await store.listTokens('u1')).map((t) => t.id)).toEqual(['tok_aaaaaaaaaaaaaaa2']);
  });

  it('counts usage per window over every writer, records lastUsedAt, and never recreates a revoked token', async () => {
    expect(await store.addUsage('h2', { windowStart: T0, delta: 3, lastUsedAt: T0 + 10 })).toBe(3);
    expect(await store.addUsage('h2', { windowStart: T0, delta: 2, lastUsedAt: T0 + 20 })).toBe(5);
    expect(await store.addUsage('h2', { windowStart: T0 + 60_000, delta: 1, lastUsedAt: T0 + 60_001 })).toBe(
      1,
    );
    expect((await store.tokenByHash('h2'))?.lastUsedAt).toBe(T0 + 60_001);
    expect(await store.addUsage('h1', { windowStart: T0, delta: 1, lastUsedAt: T0 })).toBeUndefined();
    expect(await store.tokenByHash('h1')).toBeUndefined();
  });

  it('reads a token stored before tokens had ids as a full, unlisted legacy token', async () => {
    await aws.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: 'TOKEN#legacy', sk: 'TOKEN', userId: 'u3', createdAt: new Date(T0).toISOString() },
      }),
    );
    expect(await store.tokenByHash('legacy')).toMatchObject({ userId: 'u3', scope: 'full', legacy: true });
    await store.putToken('legacy', token('tok_ccccccccccccccc1', 'u3', { scope: 'admin' }));
    expect(await store.tokenByHash('legacy')).toMatchObject({ id: 'tok_ccccccccccccccc1', scope: 'admin' });
    expect((await store.listTokens('u3')).map((t) => t.id)).toEqual(['tok_ccccccccccccccc1']);
  });

  it('claims a webhook-id once, replays its answer, and frees a crashed claim after its lease', async () => {
    expect(await store.claimReplay('tok_x', 'msg_1', T0, T0 + 86_400_000)).toEqual({ state: 'claimed' });
    expect(await store.claimReplay('tok_x', 'msg_1', T0 + 1, T0 + 86_400_000)).toEqual({
      state: 'inProgress',
    });
    await store.saveReplay(
      'tok_x',
      'msg_1',
      { status: 202, body: '{"jobs":[]}', contentType: 'application/json' },
      T0 + 86_400_000,
    );
    expect(await store.claimReplay('tok_x', 'msg_1', T0 + 2, T0 + 86_400_000)).toEqual({
      state: 'answered',
      answer: { status: 202, body: '{"jobs":[]}', contentType: 'application/json' },
    });
    // Another token's same id is another request.
    expect(await store.claimReplay('tok_y', 'msg_1', T0, T0 + 86_400_000)).toEqual({ state: 'claimed' });
    // A claim whose request never finished is free again after its one-minute lease.
    expect(await store.claimReplay('tok_y', 'msg_1', T0 + 61_000, T0 + 86_400_000)).toEqual({
      state: 'claimed',
    });
    // An expired answer is forgotten even if TTL has not deleted it yet.
    expect(await store.claimReplay('tok_x', 'msg_1', T0 + 86_400_001, T0 + 2 * 86_400_000)).toEqual({
      state: 'claimed',
    });
  });
});
