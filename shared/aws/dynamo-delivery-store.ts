/**
 * {@link DeliveryStore} on the single table: `pk = DELIVERY#<userId>`, `sk = <occurredAt>#<messageId>`.
 * Both parts of the key come from the message itself, so the sender finds a message's record with one
 * GetItem and the log lists newest events first with one Query: no index, hence one write unit per record
 * write. Records expire with the table's TTL after {@link DELIVERY_TTL_DAYS} days.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord, DeliveryStore } from '../notify/store.js';
import { TTL_ATTRIBUTE } from './table.js';

/** How long the delivery log keeps a record. */
export const DELIVERY_TTL_DAYS = 7;
const deliveryPartition = (userId: string) => `DELIVERY#${userId}`;
const PLUMBING = new Set(['pk', 'sk', TTL_ATTRIBUTE]);

/** The delivery log on DynamoDB. */
export class DynamoDeliveryStore implements DeliveryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putDelivery(record: DeliveryRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: deliveryPartition(record.userId),
          sk: `${record.occurredAt}#${record.id}`,
          ...record,
          [TTL_ATTRIBUTE]: Math.floor(Date.parse(record.lastAttemptAt) / 1000) + DELIVERY_TTL_DAYS * 86_400,
        },
      }),
    );
  }

  async getDelivery(userId: string, occurredAt: string, id: string): Promise<DeliveryRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: deliveryPartition(userId), sk: `${occurredAt}#${id}` },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async listDeliveries(userId: string, opts: { limit: number; since?: string }): Promise<DeliveryRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: opts.since ? 'pk = :pk AND sk >= :since' : 'pk = :pk',
        ExpressionAttributeValues: {
          ':pk': deliveryPartition(userId),
          ...(opts.since ? { ':since': opts.since } : {}),
        },
        ScanIndexForward: false,
        Limit: opts.limit,
      }),
    );
    return (out.Items ?? []).map(toRecord);
  }
}

function toRecord(item: Record<string, unknown>): DeliveryRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!PLUMBING.has(k)) out[k] = v;
  return out as unknown as DeliveryRecord;
}
