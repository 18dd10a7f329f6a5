/**
 * {@link TokenStore} on the single table (docs/pipeline.md, "Tokens"). Item kinds:
 * - `TOKEN#<sha256 of the token>` / `TOKEN`: the token (id, user, name, scope, signed, sealed signing
 *   secret, `lastUsedAt`, and the usage counter of the current minute `useWin`/`useCount`), listed per user
 *   through the user index (`gsi2pk = TOKENS#<userId>`, `gsi2sk = <id>`, keys only);
 * - `REPLAY#<token id>#<webhook-id>` / `REPLAY`: the answer given to a signed request, with a TTL.
 * Single-item conditional writes only; no Scan.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SCOPES, type Scope, type StoredToken, type TokenRecord } from '../tokens/model.js';
import { type ReplayClaim, type StoredAnswer, TokenConflictError, type TokenStore } from '../tokens/store.js';
import { isConditionFailure } from './dynamo-errors.js';
import { TTL_ATTRIBUTE, USER_INDEX } from './table.js';

type Item = Record<string, unknown>;

const tokenKey = (hash: string) => ({ pk: `TOKEN#${hash}`, sk: 'TOKEN' });
const userPartition = (userId: string) => `TOKENS#${userId}`;
const replayKey = (tokenId: string, webhookId: string) => ({
  pk: `REPLAY#${tokenId}#${webhookId}`,
  sk: 'REPLAY',
});
/** A claimed `webhook-id` whose request never finished (a crash) is free again after this. */
const REPLAY_LEASE_MS = 60_000;
/** Answers larger than this (gzipped) are not remembered: a replay is then processed again (and deduped). */
const MAX_STORED_ANSWER_BYTES = 300_000;

function toToken(item: Item): StoredToken {
  const hash = String(item.pk).slice('TOKEN#'.length);
  const scope = SCOPES.includes(item.scope as Scope) ? (item.scope as Scope) : 'full';
  const createdAt =
    typeof item.createdAtMs === 'number' ? item.createdAtMs : Date.parse(String(item.createdAt)) || 0;
  return {
    // Tokens stored before tokens had ids get a stable one from their hash (they are not listed).
    id: typeof item.id === 'string' ? item.id : `tok_${hash.slice(0, 16)}`,
    userId: String(item.userId),
    name: typeof item.name === 'string' ? item.name : 'token',
    scope,
    createdAt,
    ...(typeof item.lastUsedAt === 'number' ? { lastUsedAt: item.lastUsedAt } : {}),
    signed: item.signed === true,
    ...(typeof item.sealedSecret === 'string' ? { sealedSecret: item.sealedSecret } : {}),
    ...(typeof item.id === 'string' ? {} : { legacy: true as const }),
  };
}

function publicRecord(t: StoredToken): TokenRecord {
  const { sealedSecret: _sealed, legacy: _legacy, ...rest } = t;
  return rest;
}

/** The token aggregate on DynamoDB. */
export class DynamoTokenStore implements TokenStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putToken(tokenHash: string, token: StoredToken): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...tokenKey(tokenHash),
            id: token.id,
            userId: token.userId,
            name: token.name,
            scope: token.scope,
            createdAt: new Date(token.createdAt).toISOString(),
            createdAtMs: token.createdAt,
            signed: token.signed,
            sealedSecret: token.sealedSecret,
            gsi2pk: userPartition(token.userId),
            gsi2sk: token.id,
          },
          // A token stored before ids existed may be completed in place (same user).
          ConditionExpression:
            'attribute_not_exists(pk) OR (userId = :u AND (attribute_not_exists(id) OR id = :id))',
          ExpressionAttributeValues: { ':u': token.userId, ':id': token.id },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new TokenConflictError('this token is already stored for another user or id', { cause: err });
      }
      throw err;
    }
  }

  async tokenByHash(tokenHash: string): Promise<StoredToken | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: tokenKey(tokenHash), ConsistentRead: true }),
    );
    return out.Item && typeof out.Item.userId === 'string' ? toToken(out.Item) : undefined;
  }

  async userForToken(tokenHash: string): Promise<string | undefined> {
    return (await this.tokenByHash(tokenHash))?.userId;
  }

  private async userTokenKeys(userId: string, id?: string): Promise<Item[]> {
    const keys: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: USER_INDEX.name,
          KeyConditionExpression: id === undefined ? 'gsi2pk = :p' : 'gsi2pk = :p AND gsi2sk = :id',
          ExpressionAttributeValues: {
            ':p': userPartition(userId),
            ...(id === undefined ? {} : { ':id': id }),
          },
          ExclusiveStartKey: start,
        }),
      );
      for (const i of out.Items ?? []) keys.push({ pk: i.pk, sk: i.sk });
      start = out.LastEvaluatedKey;
    } while (start);
    return keys;
  }

  async listTokens(userId: string): Promise<TokenRecord[]> {
    const keys = await this.userTokenKeys(userId);
    const found: StoredToken[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let batch: Item[] | undefined = keys.slice(i, i + 100);
      for (let round = 0; batch?.length && round < 5; round++) {
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: batch, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          // The index may lag a deletion; the item read is the truth.
          if (item.userId === userId) found.push(toToken(item));
        }
        batch = out.UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined;
      }
      if (batch?.length) throw new Error(`BatchGetItem left ${batch.length} keys unprocessed`);
    }
    return found.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map(publicRecord);
  }

  async revokeToken(userId: string, id: string): Promise<boolean> {
    const [key] = await this.userTokenKeys(userId, id);
    if (!key) return false;
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: 'userId = :u AND id = :id',
          ExpressionAttributeValues: { ':u': userId, ':id': id },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async addUsage(
    tokenHash: string,
    usage: { windowStart: number; delta: number; lastUsedAt: number },
  ): Promise<number | undefined> {
    const values = { ':w': usage.windowStart, ':d': usage.delta, ':now': usage.lastUsedAt };
    const sameWindow = async () => {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKey(tokenHash),
          UpdateExpression: 'SET lastUsedAt = :now ADD useCount :d',
          // Never recreate a revoked token.
          ConditionExpression: 'attribute_exists(pk) AND useWin = :w',
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.useCount ?? usage.delta);
    };
    const newWindow = async () => {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKey(tokenHash),
          UpdateExpression: 'SET lastUsedAt = :now, useWin = :w, useCount = :d',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(useWin) OR useWin < :w)',
          ExpressionAttributeValues: values,
        }),
      );
      return usage.delta;
    };
    for (const attempt of [sameWindow, newWindow, sameWindow]) {
      try {
        return await attempt();
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    // Gone, or counting a window already behind another instance's clock.
    return (await this.tokenByHash(tokenHash)) ? usage.delta : undefined;
  }

  async claimReplay(
    tokenId: string,
    webhookId: string,
    now: number,
    expiresAt: number,
  ): Promise<ReplayClaim> {
    const key = replayKey(tokenId, webhookId);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            state: 'pending',
            leaseUntil: now + REPLAY_LEASE_MS,
            expiresAtMs: expiresAt,
            [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000),
          },
          // TTL deletion is lazy (and dynalite never deletes): expiry is checked here too.
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAtMs < :now OR (#state = :pending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':now': now, ':pending': 'pending' },
        }),
      );
      return { state: 'claimed' };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    const item = out.Item;
    if (item?.state === 'done' && item.body instanceof Uint8Array) {
      return {
        state: 'answered',
        answer: {
          status: Number(item.status),
          body: gunzipSync(item.body).toString('utf8'),
          contentType: String(item.contentType),
        },
      };
    }
    return { state: 'inProgress' };
  }

  async saveReplay(
    tokenId: string,
    webhookId: string,
    answer: StoredAnswer,
    expiresAt: number,
  ): Promise<void> {
    const body = gzipSync(Buffer.from(answer.body, 'utf8'));
    if (body.byteLength > MAX_STORED_ANSWER_BYTES) {
      await this.releaseReplay(tokenId, webhookId);
      return;
    }
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...replayKey(tokenId, webhookId),
          state: 'done',
          status: answer.status,
          contentType: answer.contentType,
          body,
          expiresAtMs: expiresAt,
          [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000),
        },
      }),
    );
  }

  async releaseReplay(tokenId: string, webhookId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: replayKey(tokenId, webhookId) }));
  }
}
