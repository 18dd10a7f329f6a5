/**
 * Creates a client token in the configured table and prints it once (only its sha256 is stored).
 *
 *   RELAY_TABLE_NAME=<table> AWS_REGION=<region> npx tsx infra/scripts/create-token.ts [userId]
 *
 * `userId` defaults to `default`. Tokens of the same user see the same jobs.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoJobStore } from '../../shared/aws/dynamo-job-store.js';
import { ENV } from '../../shared/config/env-names.js';
import { generateToken, hashToken } from '../../shared/jobs/ids.js';

async function main(): Promise<void> {
  const tableName = process.env[ENV.tableName]?.trim();
  if (!tableName) throw new Error(`${ENV.tableName} is required (the table name from the stack outputs)`);
  const userId = process.argv[2]?.trim() || 'default';
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(userId))
    throw new Error('userId: 1-64 characters of A-Z a-z 0-9 . _ @ -');
  const client = new DynamoDBClient({});
  try {
    const store = new DynamoJobStore(DynamoDBDocumentClient.from(client), tableName);
    const token = generateToken();
    await store.putToken(hashToken(token), userId, Date.now());
    process.stdout.write(
      `Token for user "${userId}" (shown once; store it now):\n${token}\n\n` +
        `curl -X POST "$API_URL/jobs" -H "Authorization: Bearer ${token}" -H 'content-type: text/plain' --data 'https://example.com/file.iso'\n`,
    );
  } finally {
    client.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`create-token: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
