/**
 * {@link RemoteStore} on the single table. A request item is keyed by the claim that sent it
 * (`pk = CLAIM#<claimToken>`, `sk = REMOTE#<id>`), so a job's shown status is one query on its claim;
 * while followed it carries `gsi1pk = REMOTE#open` for the poller's listing.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { RemoteRecord, RemoteStore } from '../jobs/remote-store.js';
import { type Item, iso } from './dynamo-keys.js';
import { OPEN_REMOTES_PARTITION, STATUS_INDEX } from './table.js';

const remoteKey = (claimToken: string, remoteId: number) => ({
  pk: `CLAIM#${claimToken}`,
  sk: `REMOTE#${String(remoteId).padStart(12, '0')}`,
});

function toRemote(item: Item): RemoteRecord {
  return {
    remoteId: Number(item.remoteId),
    jobIds: [...((item.jobIds as Set<string> | undefined) ?? [])].sort(),
    submittedAt: Number(item.submittedAt),
    claimToken: String(item.claimToken),
    ...(item.complete === true ? { complete: true } : {}),
  };
}

/** The remote requests store on DynamoDB. */
export class DynamoRemoteStore implements RemoteStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async trackRemote(remote: RemoteRecord): Promise<void> {
    if (remote.jobIds.length === 0) return;
    const complete = remote.complete === true;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: remoteKey(remote.claimToken, remote.remoteId),
        // `complete` is set in the same write that adds the whole request's jobs, so any version of the
        // item that has it lists them all.
        UpdateExpression:
          'SET remoteId = :id, claimToken = :claim, submittedAt = if_not_exists(submittedAt, :at), gsi1pk = :pk, ' +
          `gsi1sk = if_not_exists(gsi1sk, :sk)${complete ? ', #complete = :complete' : ''} ADD jobIds :jobs`,
        ...(complete ? { ExpressionAttributeNames: { '#complete': 'complete' } } : {}),
        ExpressionAttributeValues: {
          ':id': remote.remoteId,
          ':claim': remote.claimToken,
          ':at': remote.submittedAt,
          ':pk': OPEN_REMOTES_PARTITION,
          ':sk': `${iso(remote.submittedAt)}#${String(remote.remoteId).padStart(12, '0')}`,
          ':jobs': new Set(remote.jobIds),
          ...(complete ? { ':complete': true } : {}),
        },
      }),
    );
  }

  async openRemotes(opts: { limit?: number } = {}): Promise<RemoteRecord[]> {
    const limit = opts.limit ?? 1000;
    const out: RemoteRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: STATUS_INDEX.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': STATUS_INDEX.partitionKey },
          ExpressionAttributeValues: { ':pk': OPEN_REMOTES_PARTITION },
          Limit: Math.min(100, limit - out.length),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(toRemote(item));
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async remotesOfClaim(claimToken: string): Promise<RemoteRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `CLAIM#${claimToken}` },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map(toRemote);
  }

  async closeRemote(remote: Pick<RemoteRecord, 'remoteId' | 'claimToken'>): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: remoteKey(remote.claimToken, remote.remoteId) }),
    );
  }
}
