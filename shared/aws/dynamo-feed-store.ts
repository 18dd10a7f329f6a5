/**
 * {@link FeedStore} on the single DynamoDB table (docs/feeds.md, "Store"). Item kinds:
 * - `pk = FEEDS#<userId>`, `sk = FEED#<feedId>`: the feed. Living in its owner's partition, it is listed
 *   with one Query and can only be addressed through its owner. While enabled it carries
 *   `gsi1pk = FEEDS#due`, `gsi1sk = <nextFetchAt, 15 digits>#<feedId>`: the sparse due index.
 * - `pk = FEEDSEEN#<feedId>`, `sk = <item key>`: one handled item, with a TTL.
 * - `pk = FEEDLOG#<feedId>`, `sk = RECENT`: the recent item decisions, with a TTL.
 * Single-item conditional writes only; no Scan.
 */

import { randomBytes } from 'node:crypto';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  FeedNotFoundError,
  type FeedPatch,
  type FeedRecord,
  type FeedStore,
  type ItemDecision,
  SEEN_REFRESH_DAYS,
  type SeenRecord,
} from '../feeds/store.js';
import { isConditionFailure } from './dynamo-errors.js';
import { STATUS_INDEX, TTL_ATTRIBUTE } from './table.js';

type Item = Record<string, unknown>;

/** The due index partition (sparse: only enabled feeds carry it). */
export const DUE_FEEDS_PARTITION = 'FEEDS#due';
/** Decisions kept per feed for `GET /feeds/{id}`. */
export const RECENT_DECISIONS = 30;
/** Longest title kept in a decision (the item stays under a few KB). */
const DECISION_TITLE_MAX = 120;

const feedKey = (userId: string, id: string) => ({ pk: `FEEDS#${userId}`, sk: `FEED#${id}` });
const seenKey = (feedId: string, key: string) => ({ pk: `FEEDSEEN#${feedId}`, sk: key });
const logKey = (feedId: string) => ({ pk: `FEEDLOG#${feedId}`, sk: 'RECENT' });

/** Sort key of the due index: zero-padded epoch ms, so string order is time order. */
export function dueSortKey(at: number, feedId: string): string {
  return `${String(Math.max(0, Math.floor(at))).padStart(15, '0')}#${feedId}`;
}

const PLUMBING = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', TTL_ATTRIBUTE]);

function toFeed(item: Item): FeedRecord {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!PLUMBING.has(k)) out[k] = v;
  return out as unknown as FeedRecord;
}

/** Options of {@link DynamoFeedStore}. */
export interface DynamoFeedStoreOptions {
  /** `FEEDS_SEEN_DAYS`. @default 90 */
  seenDays?: number;
}

/** The feed store on DynamoDB through the DocumentClient. */
export class DynamoFeedStore implements FeedStore {
  private readonly seenS: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    opts: DynamoFeedStoreOptions = {},
  ) {
    this.seenS = (opts.seenDays ?? 90) * 86_400;
  }

  async createFeed(feed: FeedRecord): Promise<void> {
    const due =
      feed.disabledReason === undefined && feed.nextFetchAt !== undefined
        ? { gsi1pk: DUE_FEEDS_PARTITION, gsi1sk: dueSortKey(feed.nextFetchAt, feed.id) }
        : {};
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...feedKey(feed.userId, feed.id), ...feed, ...due },
        // Ids are random: a collision would mean reusing one, never overwrite.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getFeed(userId: string, id: string): Promise<FeedRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: feedKey(userId, id), ConsistentRead: true }),
    );
    return out.Item ? toFeed(out.Item) : undefined;
  }

  async listFeeds(userId: string, limit = 1000): Promise<FeedRecord[]> {
    const feeds: FeedRecord[] = [];
    let start: Item | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :feed)',
          ExpressionAttributeValues: { ':pk': `FEEDS#${userId}`, ':feed': 'FEED#' },
          ExclusiveStartKey: start,
          Limit: Math.min(100, limit - feeds.length),
        }),
      );
      for (const item of out.Items ?? []) feeds.push(toFeed(item));
      start = out.LastEvaluatedKey;
    } while (start && feeds.length < limit);
    return feeds.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async updateFeed(userId: string, id: string, patch: FeedPatch, now: number): Promise<FeedRecord> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: feedKey(userId, id),
          ...expression(id, { ...patch, set: { ...patch.set, updatedAt: now } }),
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toFeed(out.Attributes as Item);
    } catch (err) {
      if (isConditionFailure(err)) throw new FeedNotFoundError(`no feed ${id}`, { cause: err });
      throw err;
    }
  }

  async deleteFeed(userId: string, id: string): Promise<boolean> {
    const out = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: feedKey(userId, id), ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes !== undefined;
  }

  async dueFeeds(now: number, limit: number): Promise<FeedRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: STATUS_INDEX.name,
        KeyConditionExpression: '#p = :p AND #s <= :s',
        ExpressionAttributeNames: { '#p': STATUS_INDEX.partitionKey, '#s': STATUS_INDEX.sortKey },
        // `~` sorts after every id character: every feed due at or before `now`.
        ExpressionAttributeValues: { ':p': DUE_FEEDS_PARTITION, ':s': `${dueSortKey(now, '')}~` },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(toFeed);
  }

  async lease(feed: FeedRecord, now: number, leaseMs: number): Promise<string | undefined> {
    const token = randomBytes(9).toString('base64url');
    const until = now + leaseMs;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: feedKey(feed.userId, feed.id),
          UpdateExpression: 'SET nextFetchAt = :until, gsi1sk = :sk, leaseToken = :token',
          // The index is eventually consistent: act only on the state it showed, and only once.
          ConditionExpression:
            'nextFetchAt = :seen AND nextFetchAt <= :now AND attribute_exists(gsi1pk) AND attribute_not_exists(disabledReason)',
          ExpressionAttributeValues: {
            ':until': until,
            ':sk': dueSortKey(until, feed.id),
            ':token': token,
            ':seen': feed.nextFetchAt ?? -1,
            ':now': now,
          },
        }),
      );
      return token;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  async completeFetch(feed: FeedRecord, token: string, patch: FeedPatch, now: number): Promise<boolean> {
    try {
      const expr = expression(feed.id, {
        ...patch,
        set: { ...patch.set, updatedAt: now },
        remove: [...(patch.remove ?? []), 'leaseToken'],
      });
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: feedKey(feed.userId, feed.id),
          ...expr,
          // Still ours, and not changed by its owner meanwhile (URL, filters, disabled): otherwise the
          // results describe a feed that no longer exists as fetched, and are dropped.
          ConditionExpression:
            'leaseToken = :leaseToken AND #leaseUrl = :leaseUrl AND filterRev = :leaseRev AND attribute_not_exists(disabledReason)',
          ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, '#leaseUrl': 'url' },
          ExpressionAttributeValues: {
            ...expr.ExpressionAttributeValues,
            ':leaseToken': token,
            ':leaseUrl': feed.url,
            ':leaseRev': feed.filterRev,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async seenItems(feedId: string, keys: readonly string[], now: number): Promise<Map<string, SeenRecord>> {
    const found = new Map<string, SeenRecord>();
    const nowS = Math.floor(now / 1000);
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 100) {
      let batch: Item[] | undefined = unique.slice(i, i + 100).map((k) => seenKey(feedId, k));
      for (let round = 0; batch?.length && round < 8; round++) {
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: batch } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const expiresAt = Number(item[TTL_ATTRIBUTE]);
          // DynamoDB deletes expired items within days, not at once (dynalite never): expired is unseen.
          if (!(expiresAt > nowS)) continue;
          found.set(String(item.sk), {
            key: String(item.sk),
            kind: item.kind as SeenRecord['kind'],
            rev: Number(item.rev ?? 0),
            expiresAt,
          });
        }
        batch = out.UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined;
      }
      if (batch?.length) throw new Error(`BatchGetItem left ${batch.length} keys unprocessed`);
    }
    return found;
  }

  async markSeen(
    feedId: string,
    records: readonly Omit<SeenRecord, 'expiresAt'>[],
    now: number,
  ): Promise<void> {
    const expiresAt = Math.floor(now / 1000) + this.seenS + SEEN_REFRESH_DAYS * 86_400;
    const items = records.map((r) => ({
      ...seenKey(feedId, r.key),
      kind: r.kind,
      rev: r.rev,
      [TTL_ATTRIBUTE]: expiresAt,
    }));
    // Plain puts (idempotent): a repeat only moves the expiry forward.
    for (let i = 0; i < items.length; i += 25) {
      let requests: Item[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests?.length && round < 8; round++) {
        const out = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } }),
        );
        requests = out.UnprocessedItems?.[this.tableName] as Item[] | undefined;
        if (requests?.length) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
      }
      if (requests?.length) throw new Error(`BatchWriteItem left ${requests.length} items unprocessed`);
    }
  }

  async recentDecisions(feedId: string): Promise<ItemDecision[]> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: logKey(feedId) }));
    return (out.Item?.decisions as ItemDecision[] | undefined) ?? [];
  }

  async recordDecisions(feedId: string, decisions: readonly ItemDecision[], now: number): Promise<void> {
    if (decisions.length === 0) return;
    const before = await this.recentDecisions(feedId);
    const kept = [...decisions.map(trimDecision), ...before].slice(0, RECENT_DECISIONS);
    // One writer per feed at a time (the lease), so a read-modify-write is safe here.
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...logKey(feedId),
          decisions: kept,
          [TTL_ATTRIBUTE]: Math.floor(now / 1000) + this.seenS,
        },
      }),
    );
  }
}

function trimDecision(d: ItemDecision): ItemDecision {
  if (d.title === undefined || d.title.length <= DECISION_TITLE_MAX) return d;
  return { ...d, title: `${d.title.slice(0, DECISION_TITLE_MAX - 1)}…` };
}

/** UpdateExpression for a {@link FeedPatch}, keeping the due index in step with `nextFetchAt`. */
function expression(
  feedId: string,
  patch: FeedPatch,
): {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Item;
} {
  const names: Record<string, string> = {};
  const values: Item = {};
  const sets: string[] = [];
  const removes: string[] = [];
  let n = 0;
  const name = (attr: string) => {
    const key = `#a${n++}`;
    names[key] = attr;
    return key;
  };
  for (const [attr, value] of Object.entries(patch.set ?? {})) {
    if (value === undefined) continue;
    const v = `:v${n}`;
    sets.push(`${name(attr)} = ${v}`);
    values[v] = value;
  }
  for (const attr of patch.remove ?? []) removes.push(name(attr));
  if (patch.due === null) {
    removes.push(name('gsi1pk'), name('gsi1sk'), name('nextFetchAt'));
  } else if (patch.due !== undefined) {
    sets.push(`${name('gsi1pk')} = :duePk`, `${name('gsi1sk')} = :dueSk`, `${name('nextFetchAt')} = :dueAt`);
    values[':duePk'] = DUE_FEEDS_PARTITION;
    values[':dueSk'] = dueSortKey(patch.due, feedId);
    values[':dueAt'] = patch.due;
  }
  const parts = [
    ...(sets.length ? [`SET ${sets.join(', ')}`] : []),
    ...(removes.length ? [`REMOVE ${removes.join(', ')}`] : []),
  ];
  return {
    UpdateExpression: parts.join(' '),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}
