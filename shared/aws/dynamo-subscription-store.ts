/**
 * {@link SubscriptionStore} on the single table: `pk = NOTIFY#<userId>`, `sk = HOOK#<id>`, the target URL
 * sealed (a Zapier hook URL lets anyone post into the Zap).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SecretCipher } from '../notify/cipher.js';
import type { HookEvent, HookSubscription, SubscriptionStore } from '../notify/store.js';
import { deleteIfExists, queryPrefix } from './dynamo-keys.js';
import { notifyPartition } from './dynamo-target-store.js';

const HOOK_PREFIX = 'HOOK#';

/** Zapier REST-hook subscriptions on DynamoDB. */
export class DynamoSubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cipher: SecretCipher,
  ) {}

  async putSubscription(sub: HookSubscription): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: notifyPartition(sub.userId),
          sk: HOOK_PREFIX + sub.id,
          id: sub.id,
          event: sub.event,
          createdAt: sub.createdAt,
          sealed: await this.cipher.seal(sub.targetUrl),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getSubscription(userId: string, id: string): Promise<HookSubscription | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: notifyPartition(userId), sk: HOOK_PREFIX + id },
        ConsistentRead: true,
      }),
    );
    return out.Item ? this.fromItem(userId, out.Item) : undefined;
  }

  async listSubscriptions(userId: string): Promise<HookSubscription[]> {
    const items = await queryPrefix(this.doc, this.tableName, notifyPartition(userId), HOOK_PREFIX);
    return Promise.all(items.map((i) => this.fromItem(userId, i)));
  }

  async deleteSubscription(userId: string, id: string): Promise<boolean> {
    return deleteIfExists(this.doc, this.tableName, { pk: notifyPartition(userId), sk: HOOK_PREFIX + id });
  }

  private async fromItem(userId: string, item: Record<string, unknown>): Promise<HookSubscription> {
    return {
      id: String(item.id),
      userId,
      event: item.event as HookEvent,
      createdAt: String(item.createdAt),
      targetUrl: await this.cipher.open(String(item.sealed)),
    };
  }
}
