/**
 * Cost model: the AWS requests counted during the pipeline and ingest runs, turned into USD per
 * 1 million URLs at list prices (`lib/prices.ts`), against the naive design — one worker Lambda
 * invocation per URL (SQS batch size 1, unbatched send), rclone's 400 ms spacing slept inside the
 * Lambda, and per-job polling of remote/info.cgi from a scheduled Lambda that also sleeps its spacing;
 * it keeps our job store (the job writes and reads per URL we measured) and our shared pacer, whose
 * measured reads and writes per 1fichier call it pays for ~10x more calls.
 *
 * Assumptions (also in docs/performance.md): one URL per API request (webhooks send one); the API
 * Lambda is billed its measured p50 latency; worker and poller their measured invocation durations;
 * DynamoDB write units = the engine's base-table units + index writes by AWS's rules; Secrets Manager is
 * read once per 5 minutes per warm function (the key provider's cache), spread over the URLs of that time.
 */
import type { IngestSide } from './ingest.js';
import { PRICES } from './lib/prices.js';
import { lowerIsBetterRows, type Row } from './lib/report.js';
import type { PipelineOutcome } from './pipeline.js';
import { RCLONE_MIN_SLEEP_MS } from './pipeline.js';

/** Memory of each function, MB (`infra/cdk/relay-stack.ts` FUNCTION_SIZING). */
export interface FunctionMemory {
  api: number;
  worker: number;
  poller: number;
}

/** Per-URL quantities of one design. */
export interface PerUrl {
  apiRequests: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  sqsRequests: number;
  writeUnits: number;
  readUnits: number;
  secretsCalls: number;
  fichierCalls: number;
}

function usdPerMillion(q: PerUrl): Record<string, number> {
  const m = 1e6;
  const parts = {
    apiGateway: q.apiRequests * PRICES.apiGatewayHttpRequest * m,
    lambdaRequests: q.lambdaInvocations * PRICES.lambdaRequest * m,
    lambdaDuration: q.lambdaGbSeconds * PRICES.lambdaGbSecondArm * m,
    sqs: q.sqsRequests * PRICES.sqsRequest * m,
    dynamoWrites: q.writeUnits * PRICES.dynamoWriteUnit * m,
    dynamoReads: q.readUnits * PRICES.dynamoReadUnit * m,
    secrets: q.secretsCalls * PRICES.secretsManagerCall * m,
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const sqsOps = (ops: Record<string, number>, names: string[]) => sum(names.map((n) => ops[`SQS.${n}`] ?? 0));

/** Builds the per-URL quantities and the rows. */
export function costModel(pipeline: PipelineOutcome, ingest: IngestSide | undefined, memory: FunctionMemory) {
  const n = pipeline.params.n;
  const child = pipeline.child;
  const cap = child.capacity;
  const gb = (mb: number) => mb / 1024;

  // API side, per request of one URL (from the ingest run when there was one).
  const ingestReqs = ingest ? Math.max(1, ingest.total) : 1;
  const apiOps = ingest?.awsOps ?? {};
  const apiGetItem = (apiOps['DynamoDB.GetItem'] ?? 1) / ingestReqs;
  const apiSqs = ingest ? sqsOps(apiOps, ['SendMessageBatch', 'SendMessage']) / ingestReqs : 1;
  const apiSeconds = (ingest?.p50Ms ?? 20) / 1000;
  // Per-job create units taken off the metered total and added back per URL: the constant cancels out, so
  // the write figure is what was metered (a create really costs 2: the PutItem and its user-index entry).
  const createUnits = 3;

  // Worker + poller side, from the pipeline run, without what its (batched) ingest cost.
  const jobPuts = cap?.opsByKind['PutItemCommand JOB'] ?? n;
  const tokenReads = cap?.opsByKind['GetItemCommand TOKEN'] ?? 0;
  const writeUnits = cap ? cap.writeUnitsTable + cap.writeUnitsIndexes - jobPuts * createUnits : Number.NaN;
  const readUnits = cap ? cap.readUnits - tokenReads : Number.NaN;
  const sqsBack =
    sqsOps(child.awsOps, [
      'ReceiveMessage',
      'DeleteMessageBatch',
      'DeleteMessage',
      'ChangeMessageVisibilityBatch',
      'ChangeMessageVisibility',
      'SendMessageBatch',
    ]) - Math.ceil(pipeline.apiRequests * Math.ceil(pipeline.params.urlsPerPost / 10));
  // In AWS each poll trigger is a delayed message on the poll queue: its send, the poller's receive and
  // its delete, and one poller invocation (a stale trigger is read and dropped without a cycle).
  const pollMessages = child.pollTimerMessages ?? 0;
  const pollerInvocations = Math.max(child.invocations.poller.length, pollMessages);
  const workerS = sum(child.invocations.worker) / 1000;
  const pollerS = sum(child.invocations.poller) / 1000;
  const fichierCalls = sum(Object.values(pipeline.sandboxRequests)) / n;
  // The key provider caches the secret 5 minutes per warm container: about 12 reads an hour per function,
  // spread over the URLs relayed in that hour at the measured throughput.
  const doneS = Math.max(1, (child.allTerminalAt ?? Date.now()) - (child.firstSubmittedAt ?? 0)) / 1000;
  const urlsPerHour = (n / doneS) * 3600;
  const secretsPerUrl = (3 * 12) / urlsPerHour;

  const ours: PerUrl = {
    apiRequests: 1,
    lambdaInvocations: 1 + (child.invocations.worker.length + pollerInvocations) / n,
    lambdaGbSeconds:
      apiSeconds * gb(memory.api) + (workerS * gb(memory.worker) + pollerS * gb(memory.poller)) / n,
    sqsRequests: apiSqs + (Math.max(0, sqsBack) + 3 * pollMessages) / n,
    writeUnits: createUnits + writeUnits / n,
    readUnits: apiGetItem + readUnits / n,
    secretsCalls: secretsPerUrl,
    fichierCalls,
  };

  // Naive: per URL one unbatched send, one receive and one delete, one worker invocation that sleeps
  // the 400 ms spacing and does our mean invocation's work; per-job polling sleeps 400 ms per info call.
  const naive = pipeline.naive;
  const infoPerUrl = (naive.calls['remote/info.cgi'] ?? 0) / naive.n;
  const meanWorkerS = child.invocations.worker.length ? workerS / child.invocations.worker.length : 0.05;
  const pacingS = RCLONE_MIN_SLEEP_MS / 1000;
  // The naive design keeps the same job store (the same job writes and reads per URL) and the same
  // shared pacer, whose reads and writes it pays per 1fichier call; its poller reads a job per info call.
  const ourCalls = Math.max(1, fichierCalls * n);
  const naiveCallsPerUrl = sum(Object.values(naive.calls)) / naive.n;
  const jobWrites = cap ? ((cap.writeUnitsByKind.JOB ?? 0) + (cap.indexUnitsByKind.JOB ?? 0)) / n : 3 * 3;
  const pacerWritesPerCall = cap
    ? ((cap.writeUnitsByKind.PACER ?? 0) + (cap.indexUnitsByKind.PACER ?? 0)) / ourCalls
    : 1;
  const pacerReadsPerCall = cap ? (cap.readUnitsByKind.PACER ?? 0) / ourCalls : 1;
  const jobReads = cap ? (cap.readUnitsByKind.JOB ?? 0) / n : 1;
  const naiveQ: PerUrl = {
    apiRequests: 1,
    lambdaInvocations: 1 + 1 + infoPerUrl / 10,
    lambdaGbSeconds:
      apiSeconds * gb(memory.api) +
      (meanWorkerS + pacingS) * gb(memory.worker) +
      infoPerUrl * pacingS * gb(memory.poller),
    sqsRequests: 3,
    writeUnits: jobWrites + pacerWritesPerCall * naiveCallsPerUrl,
    readUnits: apiGetItem + jobReads + infoPerUrl + pacerReadsPerCall * naiveCallsPerUrl,
    secretsCalls: secretsPerUrl,
    fichierCalls: naiveCallsPerUrl,
  };

  const oursUsd = usdPerMillion(ours);
  const naiveUsd = usdPerMillion(naiveQ);
  const label = 'naive design: 1 invocation/URL, per-job info polling';
  const row = lowerIsBetterRows('cost', label);
  const rows: Row[] = [
    row('Lambda invocations per URL', 'invocations', ours.lambdaInvocations, naiveQ.lambdaInvocations),
    row('worker invocations per URL', 'invocations', child.invocations.worker.length / n, 1),
    row('Lambda GB-s per URL', 'GB-s', ours.lambdaGbSeconds, naiveQ.lambdaGbSeconds),
    row('SQS requests per URL', 'requests', ours.sqsRequests, naiveQ.sqsRequests),
    row('DynamoDB write units per URL (table + indexes)', 'WRU', ours.writeUnits, naiveQ.writeUnits),
    row(
      'DynamoDB write units per URL (table only)',
      'WRU',
      1 + (cap ? cap.writeUnitsTable - jobPuts : Number.NaN) / n,
      (cap ? (cap.writeUnitsByKind.JOB ?? 0) / n : 3) +
        (cap ? (cap.writeUnitsByKind.PACER ?? 0) / ourCalls : 1) * naiveCallsPerUrl,
    ),
    row('DynamoDB read units per URL', 'RRU', ours.readUnits, naiveQ.readUnits),
    row('USD per 1M URLs: API Gateway', 'USD', oursUsd.apiGateway ?? 0, naiveUsd.apiGateway ?? 0),
    row(
      'USD per 1M URLs: Lambda (requests + duration)',
      'USD',
      (oursUsd.lambdaRequests ?? 0) + (oursUsd.lambdaDuration ?? 0),
      (naiveUsd.lambdaRequests ?? 0) + (naiveUsd.lambdaDuration ?? 0),
    ),
    row('USD per 1M URLs: SQS', 'USD', oursUsd.sqs ?? 0, naiveUsd.sqs ?? 0),
    row(
      'USD per 1M URLs: DynamoDB',
      'USD',
      (oursUsd.dynamoWrites ?? 0) + (oursUsd.dynamoReads ?? 0),
      (naiveUsd.dynamoWrites ?? 0) + (naiveUsd.dynamoReads ?? 0),
    ),
    row(
      'USD per 1M URLs: total',
      'USD',
      oursUsd.total ?? 0,
      naiveUsd.total ?? 0,
      `list prices ${PRICES.region} checked ${PRICES.checkedOn}`,
    ),
  ];
  return {
    rows,
    details: {
      prices: PRICES,
      memoryMb: memory,
      ours,
      naive: naiveQ,
      oursUsd,
      naiveUsd,
      capacity: cap,
      awsOps: child.awsOps,
    },
  };
}
