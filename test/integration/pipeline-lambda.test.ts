/** The Lambda entry points as AWS calls them: deps built lazily from the environment on the first call. */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as apiHandler } from '../../functions/api.js';
import { handler as pollerHandler } from '../../functions/poller.js';
import { handler as workerHandler } from '../../functions/worker.js';
import { DynamoTokenStore } from '../../shared/aws/dynamo-token-store.js';
import { ENV } from '../../shared/config/env-names.js';
import { signDelivery } from '../../shared/notify/sign.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { receiveEvent } from '../support/engines-pipeline.js';

let aws: TestAws;
let queueUrl: string;
const TOKEN = 'fr_lambda-token';

beforeAll(async () => {
  aws = await startTestAws();
  const config = await aws.fresh();
  queueUrl = config.queueUrl;
  process.env[ENV.tableName] = config.tableName;
  process.env[ENV.queueUrl] = config.queueUrl;
  // A key that no 1fichier will see: the worker below finds its circuit open before any call.
  process.env[ENV.fichierApiKey] = 'lambda-test-key-000000000000000';
  process.env[ENV.fichierApiUrl] = 'http://127.0.0.1:9/v1';
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  await registerToken(
    new DynamoTokenStore(aws.doc, config.tableName),
    { token: TOKEN, userId: 'lambda-user' },
    Date.now(),
  );
});
afterAll(async () => {
  await aws?.close();
});

type ApiEvent = Parameters<typeof apiHandler>[0];

function httpEvent(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): ApiEvent {
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example', ...headers },
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      time: '27/Nov/2026:12:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
  // hono's event type says `body: string | null` where aws-lambda's says `string | undefined`.
  return event as unknown as ApiEvent;
}

type LambdaAnswer = { statusCode: number; body: string };
const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
  (await apiHandler(httpEvent(method, path, body, headers), {} as Context)) as LambdaAnswer;

describe('Lambda handlers', () => {
  it('api handler answers an HTTP API v2 event: 202 with the job, and 401 JSON without a token', async () => {
    const ok = (await apiHandler(
      httpEvent('POST', '/jobs', '{"url":"https://lambda.example/a.iso"}', {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
      }),
      {} as Context,
    )) as { statusCode: number; body: string };
    expect(ok.statusCode).toBe(202);
    expect(JSON.parse(ok.body).jobs[0]).toMatchObject({
      url: 'https://lambda.example/a.iso',
      status: 'queued',
      duplicate: false,
    });
    const denied = (await apiHandler(httpEvent('GET', '/jobs'), {} as Context)) as {
      statusCode: number;
      body: string;
    };
    expect(denied.statusCode).toBe(401);
    expect(JSON.parse(denied.body).error.code).toBe('unauthorized');
  });

  it('api handler serves GET /openapi.json without a token', async () => {
    const res = (await apiHandler(httpEvent('GET', '/openapi.json'), {} as Context)) as {
      statusCode: number;
      body: string;
    };
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/jobs');
  });

  it('worker handler acknowledges the message and leaves the job queued when the key is refused', async () => {
    const { DynamoPacer } = await import('../../shared/aws/dynamo-pacer.js');
    const { keyIdOf } = await import('../../shared/fichier/memory-pacer.js');
    await new DynamoPacer(aws.doc, process.env[ENV.tableName] as string).recordAuthFailure(
      keyIdOf(process.env[ENV.fichierApiKey] as string),
      'Not authenticated #247',
    );
    const event = await receiveEvent(aws.sqs, queueUrl, 1);
    expect(event.Records).toHaveLength(1);
    const res = await workerHandler(event);
    expect(res.batchItemFailures).toEqual([]);
  });

  it('poller handler runs a cycle and stores its report', async () => {
    const report = await pollerHandler({ source: 'aws.events' });
    expect(report.counts.queued).toBe(1);
    expect(report.pacer?.circuitOpen).toBe(true);
    expect(report.calls).toEqual({ ls: 0, info: 0 });
  });
});

// After the pipeline tests: the signed job below would change the poller's counts.
describe('Lambda handler: tokens', () => {
  it('api handler manages tokens and enforces scopes and signatures', async () => {
    const json = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    const made = await call('POST', '/tokens', '{"name":"poller","scope":"read"}', json);
    expect(made.statusCode).toBe(201);
    const read = JSON.parse(made.body) as { id: string; token: string };
    const asRead = { authorization: `Bearer ${read.token}`, 'content-type': 'text/plain' };
    expect((await call('GET', '/jobs', undefined, asRead)).statusCode).toBe(200);
    const write = await call('POST', '/jobs', 'https://lambda.example/read.iso', asRead);
    expect(write.statusCode).toBe(403);
    expect(JSON.parse(write.body).error.message).toContain('"submit"');
    const listed = await call('GET', '/tokens', undefined, json);
    expect(listed.body).toContain(read.id);
    expect(listed.body).not.toContain(read.token);
    expect((await call('DELETE', `/tokens/${read.id}`, undefined, json)).statusCode).toBe(204);
    expect((await call('GET', '/jobs', undefined, asRead)).statusCode).toBe(401);

    const signed = JSON.parse(
      (await call('POST', '/tokens', '{"name":"ci","scope":"submit","signed":true}', json)).body,
    ) as { token: string; signingSecret: string };
    const body = '{"url":"https://lambda.example/signed.iso"}';
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${signed.token}`,
      ...signDelivery({ id: 'msg_lambda', timestamp: new Date(), body, secrets: [signed.signingSecret] }),
    };
    const first = await call('POST', '/jobs', body, headers);
    expect(first.statusCode).toBe(202);
    const again = await call('POST', '/jobs', body, headers);
    expect(again).toMatchObject({ statusCode: 202, body: first.body });
    const tampered = await call('POST', '/jobs', body.replace('signed', 'forged'), headers);
    expect(tampered.statusCode).toBe(401);
  });
});
