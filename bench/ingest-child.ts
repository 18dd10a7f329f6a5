/**
 * The server under load for the ingest benchmark (forked by `ingest.ts`), on its own embedded engines
 * (dynalite + fauxqs via `startEngines`), so the load generator does not share its event loop.
 * Mode `relay`: the API app (`createApiApp`) served with @hono/node-server. Mode `bare`: a plain
 * `node:http` server doing only what ingest must do — one conditional PutItem and one SendMessage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createAdaptorServer } from '@hono/node-server';
import { createApiApp } from '../functions/api.js';
import { startEngines } from '../infra/local/engines.js';
import { loadConfig } from '../shared/app/config.js';
import { createDeps } from '../shared/app/deps.js';
import { DynamoJobStore } from '../shared/aws/dynamo-job-store.js';
import { DynamoTokenStore } from '../shared/aws/dynamo-token-store.js';
import { ensureQueue, SqsJobQueue } from '../shared/aws/queue.js';
import { ensureTable } from '../shared/aws/table.js';
import { ENV } from '../shared/config/env-names.js';
import { registerToken } from '../shared/tokens/manage.js';
import { startAwsCounter } from './lib/aws-counter.js';

const mode = process.argv[2] === 'bare' ? 'bare' : 'relay';
const token = process.argv[3] ?? 'bench-ingest-token-0123456789';
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const engines = await startEngines();
const ddb = new DynamoDBClient({ endpoint: engines.dynamoEndpoint, region: REGION, credentials });
const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({
  endpoint: engines.sqsEndpoint,
  region: REGION,
  credentials,
  useQueueUrlAsEndpoint: false,
});
const table = 'bench-ingest';
await ensureTable(ddb, table);
const queueUrl = await ensureQueue(sqs, 'bench-ingest');
const counter = startAwsCounter();

let server: Server;
if (mode === 'relay') {
  const config = loadConfig({
    [ENV.tableName]: table,
    [ENV.queueUrl]: queueUrl,
    [ENV.fichierApiKey]: 'unused-in-ingest',
    // Load, not a person: the limit stays on (its counter writes are part of the cost) but never refuses.
    [ENV.tokenRatePerMin]: '100000',
  });
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };
  const deps = createDeps(config, {
    store: new DynamoJobStore(doc, table, { jobTtlDays: config.jobTtlDays }),
    tokens: new DynamoTokenStore(doc, table),
    queue: new SqsJobQueue(sqs, queueUrl),
    logger: quiet as never,
  });
  await registerToken(deps.tokens, { token, userId: 'bench' }, Date.now());
  server = createAdaptorServer({ fetch: createApiApp(deps).fetch }) as Server;
} else {
  let n = 0;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { url?: unknown };
        if (typeof body.url !== 'string') throw new Error('url');
        const id = `bare-${process.pid}-${n++}`;
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { pk: `JOB#${id}`, sk: 'JOB', url: body.url, status: 'queued', createdAt: Date.now() },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        await sqs.send(
          new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ jobId: id }) }),
        );
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jobs: [{ id, url: body.url, status: 'queued', duplicate: false }] }));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"invalid","message":"bad body"}}');
      }
    });
  });
}
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
counter.reset();
process.send?.({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
process.on('message', async (m: { type: string }) => {
  if (m.type === 'reset') counter.reset();
  if (m.type === 'report') process.send?.({ type: 'report', awsOps: counter.counts() });
  if (m.type === 'close') {
    server.close();
    server.closeAllConnections?.();
    ddb.destroy();
    sqs.destroy();
    await engines.close();
    process.exit(0);
  }
});
