/**
 * {@link TargetStore} on the single table: `pk = NOTIFY#<userId>`, `sk = TARGET#<id>`. The whole config is
 * sealed (AES-GCM, `cipher.ts`) because for most types the URL itself is the credential; only the type
 * and the creation time are in the clear. About 300-700 bytes an item.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SecretCipher } from '../notify/cipher.js';
import type { StoredTarget, TargetStore, WatchTarget } from '../notify/store.js';
import type { TargetConfig } from '../notify/targets.js';
import { deleteIfExists, queryPrefix } from './dynamo-keys.js';
import { STATUS_INDEX } from './table.js';

/** The partition holding one user's notification settings (targets, REST hooks, signing secret). */
export const notifyPartition = (userId: string) => `NOTIFY#${userId}`;
const TARGET_PREFIX = 'TARGET#';
/** The status-index partition of targets that want outage messages or report digests. */
export const WATCH_TARGETS_PARTITION = 'NOTIFY#watch';

/** The notification targets on DynamoDB. */
export class DynamoTargetStore implements TargetStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cipher: SecretCipher,
  ) {}

  async putTarget(target: StoredTarget): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: notifyPartition(target.userId),
          sk: TARGET_PREFIX + target.id,
          id: target.id,
          type: target.config.type,
          userId: target.userId,
          createdAt: target.createdAt,
          sealed: await this.cipher.seal(JSON.stringify(target.config)),
          // Sparse: only targets that want outage messages or digests are in the index the watches read.
          ...(target.config.events.includes('outage') || target.config.digest !== 'none'
            ? {
                gsi1pk: WATCH_TARGETS_PARTITION,
                gsi1sk: `${target.userId}#${target.id}`,
                outage: target.config.events.includes('outage'),
                digest: target.config.digest,
              }
            : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getTarget(userId: string, id: string): Promise<StoredTarget | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: notifyPartition(userId), sk: TARGET_PREFIX + id },
        ConsistentRead: true,
      }),
    );
    return out.Item ? this.fromItem(userId, out.Item) : undefined;
  }

  async listTargets(userId: string): Promise<StoredTarget[]> {
    const items = await queryPrefix(this.doc, this.tableName, notifyPartition(userId), TARGET_PREFIX);
    const targets = await Promise.all(items.map((i) => this.fromItem(userId, i)));
    return targets.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async deleteTarget(userId: string, id: string): Promise<boolean> {
    return deleteIfExists(this.doc, this.tableName, { pk: notifyPartition(userId), sk: TARGET_PREFIX + id });
  }

  async listWatchTargets(): Promise<WatchTarget[]> {
    const out: WatchTarget[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: STATUS_INDEX.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: {
            '#pk': STATUS_INDEX.partitionKey,
            '#u': 'userId',
            '#i': 'id',
            '#o': 'outage',
            '#d': 'digest',
          },
          ExpressionAttributeValues: { ':pk': WATCH_TARGETS_PARTITION },
          ProjectionExpression: '#u, #i, #o, #d',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of page.Items ?? []) {
        out.push({
          userId: String(i.userId),
          id: String(i.id),
          outage: i.outage === true,
          digest: (i.digest as WatchTarget['digest']) ?? 'none',
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private async fromItem(userId: string, item: Record<string, unknown>): Promise<StoredTarget> {
    const config = JSON.parse(await this.cipher.open(String(item.sealed))) as TargetConfig;
    return { id: String(item.id), userId, config, createdAt: String(item.createdAt) };
  }
}
