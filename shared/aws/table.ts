/**
 * The relay's single DynamoDB table, as data shared by the CDK stack and the local runtime.
 * Item kinds (docs/pipeline.md): `JOB#<id>` jobs (the id is the dedupe key), `TOKEN#<sha256>` client
 * tokens (listed per user through gsi2 `TOKENS#<userId>`), `REPLAY#<token id>#<webhook-id>` answers to
 * signed requests, `PACER#<keyId>` pacer state, `REPORT` the latest poller report.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/** Partition and sort key attribute names (both strings). */
export const TABLE_KEY_SCHEMA = { partitionKey: 'pk', sortKey: 'sk' } as const;

/**
 * Sparse, for the rare case. A job enters it (`gsi1pk = STATUS#pending`, `gsi1sk = <entered>#<id>`) only
 * when its SQS message may be lost: the send failed, the message was dropped after too many deferrals, or
 * the circuit acknowledged it (`markPending`); it leaves when the job leaves `queued`/`submitting`. Jobs
 * whose messages flow never touch it, so creating, claiming and submitting a job write no index entry.
 * Followed remote requests carry `gsi1pk = REMOTE#open`, `gsi1sk = <submittedAt>#<id>` until all their
 * jobs end. Projection ALL: the poller reads whole items and filters on status, lease and change time.
 */
export const STATUS_INDEX = {
  name: 'gsi1',
  partitionKey: 'gsi1pk',
  sortKey: 'gsi1sk',
  projection: 'ALL',
} as const;

/**
 * Every job carries `gsi2pk = USER#<userId>`, `gsi2sk = <createdAt>#<id>` (query backwards for newest
 * first). Keys only: the keys never change, so state changes write nothing to this index; the listing
 * reads the jobs themselves with BatchGetItem.
 */
export const USER_INDEX = {
  name: 'gsi2',
  partitionKey: 'gsi2pk',
  sortKey: 'gsi2sk',
  projection: 'KEYS_ONLY',
} as const;

/** All global secondary indexes, with their projection type (the CDK table uses the same). */
export const TABLE_GSIS = [STATUS_INDEX, USER_INDEX] as const;

/** The status index partition of jobs waiting for 1fichier (`queued` or `submitting`). */
export const PENDING_PARTITION = 'STATUS#pending';
/** The status index partition of the remote requests being followed. */
export const OPEN_REMOTES_PARTITION = 'REMOTE#open';

/** Epoch-seconds TTL attribute, set on terminal jobs only (enable it in CDK; dynalite ignores it). */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Creates the table when it does not exist (local runtime and tests; AWS tables come from CDK). */
export async function ensureTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  const attr = (n: string) => ({ AttributeName: n, AttributeType: 'S' as const });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          attr(TABLE_KEY_SCHEMA.partitionKey),
          attr(TABLE_KEY_SCHEMA.sortKey),
          ...TABLE_GSIS.flatMap((g) => [attr(g.partitionKey), attr(g.sortKey)]),
        ],
        KeySchema: [
          { AttributeName: TABLE_KEY_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEY_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_GSIS.map((g) => ({
          IndexName: g.name,
          KeySchema: [
            { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
            { AttributeName: g.sortKey, KeyType: 'RANGE' as const },
          ],
          Projection: { ProjectionType: g.projection },
        })),
      }),
    );
  } catch (err) {
    // Another process created it between our describe and create.
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { TableName: name });
}
