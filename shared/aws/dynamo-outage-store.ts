/**
 * {@link OutageStore} on the single table: one item, `pk = NOTIFY#relay`, `sk = OUTAGE`, written only when
 * the watch's state changes (a few writes per outage), conditional on its version.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { OutageStore, StoredOutageState } from '../notify/store.js';
import { isConditionFailure } from './dynamo-errors.js';

const KEY = { pk: 'NOTIFY#relay', sk: 'OUTAGE' };

/** The outage watch state on DynamoDB. */
export class DynamoOutageStore implements OutageStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<StoredOutageState | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
    );
    return out.Item
      ? { state: out.Item.state as StoredOutageState['state'], version: Number(out.Item.version) }
      : undefined;
  }

  async put(state: StoredOutageState['state'], expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEY, state, version: expectedVersion + 1 },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
