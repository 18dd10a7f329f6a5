/**
 * The relay's single DynamoDB table, as data shared by the CDK stack and the local runtime.
 * Item kinds (docs/pipeline.md): `JOB#<id>` jobs (the id is the dedupe key), `TOKEN#<sha256>` client
 * tokens, `PACER#<keyId>` pacer state, `REPORT` the latest poller report.
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

/** Sparse: only non-terminal jobs carry `gsi1pk = STATUS#<status>`, sorted by last change (oldest first). */
export const STATUS_INDEX = { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;

/** Every job carries `gsi2pk = USER#<userId>`, sorted by creation time (query backwards for newest first). */
export const USER_INDEX = { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' } as const;

/** All global secondary indexes (projection ALL: job items are small and the readers need the whole job). */
export const TABLE_GSIS = [STATUS_INDEX, USER_INDEX] as const;

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
          Projection: { ProjectionType: 'ALL' as const },
        })),
      }),
    );
  } catch (err) {
    // Another process created it between our describe and create.
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { TableName: name });
}
