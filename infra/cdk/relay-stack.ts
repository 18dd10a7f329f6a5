import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV } from '../../shared/config/env-names.js';
import type { FunctionName } from '../../shared/config/function-env.js';
import { RelayAlarms } from './alarms.js';
import { RelayHttpApi } from './api.js';
import type { RelayConfig } from './config.js';
import { RelayDashboard } from './dashboard.js';
import {
  addDeliveryTriggers,
  DeliveriesQueue,
  NotifyKeySecret,
  useDeliveriesQueue,
  useDeliveriesQueueForSend,
  useNotifyKey,
} from './deliveries.js';
import { FeedsReader } from './feeds.js';
import {
  useBatching,
  usePacing,
  usePollCycle,
  useQueueForConsume,
  useQueueForSend,
  useSecret,
  useStuckThreshold,
  useTable,
  useTableItems,
} from './grants.js';
import { RelayFunction, type RelayFunctionProps } from './lambda-defaults.js';
import { acknowledge } from './nag.js';
import { API_ON_DEMAND, FEEDS_ON_DEMAND, onDemandCommands } from './on-demand.js';
import { JobsQueue } from './queue.js';
import { PollQueue, PollSchedule } from './schedules.js';
import { FichierKeySecret } from './secret.js';
import { RelayTable } from './table.js';
import { API_ITEM_ACCESS } from './table-access.js';
import { webAssetCommands } from './web-assets.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Per-function sizing. The worker's timeout also sets the queue's visibility timeout (x6). */
export const FUNCTION_SIZING: Record<FunctionName, Pick<RelayFunctionProps, 'timeout' | 'memorySize'>> = {
  // API Gateway HTTP APIs give up after 30 s; a healthy ingest answers in well under a second.
  // More memory buys CPU for a faster cold start on the request path.
  api: { timeout: Duration.seconds(10), memorySize: 512 },
  // One remote/request.cgi call plus DynamoDB writes; pacer waits longer than ~1 s go back to SQS.
  worker: { timeout: Duration.seconds(60), memorySize: 256 },
  // remote/ls.cgi once, remote/info.cgi per finished request, all paced; it stops at its deadline
  // and the next run continues.
  poller: { timeout: Duration.seconds(60), memorySize: 256 },
  // Due feeds, four at a time, each fetch at most 60 s; it stops taking feeds when its time runs short.
  feeds: { timeout: Duration.seconds(90), memorySize: 256 },
  // Up to 10 deliveries of 15 s each, one after the other.
  deliveries: { timeout: Duration.seconds(180), memorySize: 256 },
};

/** Settings for {@link RelayStack}. */
export interface RelayStackProps extends StackProps {
  readonly config: RelayConfig;
}

/**
 * The whole relay in one stack: HTTP API -> api function -> DynamoDB + SQS -> worker -> 1fichier;
 * an EventBridge rule runs the poller/reporter; alarms notify an SNS topic.
 */
export class RelayStack extends Stack {
  readonly functions: Record<FunctionName, NodejsFunction>;

  constructor(scope: Construct, id: string, props: RelayStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    const { table } = new RelayTable(this, 'Table', { deletionProtection: config.deletionProtection });
    const { queue, deadLetterQueue } = new JobsQueue(this, 'Queue', {
      consumerTimeout: FUNCTION_SIZING.worker.timeout,
      maxReceiveCount: config.maxReceiveCount,
    });
    const { secret } = new FichierKeySecret(this, 'FichierKey');

    const makeFunction = (
      name: FunctionName,
      description: string,
      extra: Partial<RelayFunctionProps> = {},
    ) => {
      const relayFn = new RelayFunction(this, `${name[0]!.toUpperCase()}${name.slice(1)}Handler`, {
        entry: join(repoRoot, 'functions', `${name}.ts`),
        description: `fichier-relay ${name}: ${description}`,
        logRetention,
        tracing: config.tracing,
        logLevel: config.logLevel,
        ...FUNCTION_SIZING[name],
        ...extra,
      });
      return relayFn.fn;
    };

    const apiOnDemand = onDemandCommands(API_ON_DEMAND);
    const api = makeFunction('api', 'HTTP API (create and read jobs, reports, health)', {
      afterBundling: (inputDir, outputDir) => [
        ...webAssetCommands(inputDir, outputDir),
        ...apiOnDemand(inputDir, outputDir),
      ],
    });
    useTableItems(api, table, API_ITEM_ACCESS);
    useQueueForSend(api, queue);
    useSecret(api, secret);

    const worker = makeFunction('worker', 'submits queued jobs to 1fichier remote/request.cgi');
    useTable(worker, table);
    useQueueForConsume(worker, queue);
    useSecret(worker, secret);
    usePacing(worker, config);
    useBatching(worker, config);
    usePollCycle(worker, config);
    worker.addEventSource(
      new SqsEventSource(queue, {
        batchSize: config.workerBatchSize,
        maxBatchingWindow: Duration.seconds(config.workerMaxBatchingWindowSeconds),
        // The handler returns batchItemFailures: only failed records come back.
        reportBatchItemFailures: true,
        // Few concurrent workers: every call for the key shares one pacer and 1fichier locks
        // the key and IP on floods; more workers would only wait on each other.
        maxConcurrency: config.workerMaxConcurrency,
      }),
    );

    const poller = makeFunction('poller', 'polls 1fichier for finished uploads, re-enqueues, reports');
    useTable(poller, table);
    useQueueForSend(poller, queue);
    useSecret(poller, secret);
    usePacing(poller, config);
    useStuckThreshold(poller, config);
    usePollCycle(poller, config);
    new PollSchedule(this, 'PollSchedule', { poller, rateMinutes: config.pollRateMinutes });
    // Seconds-after-submission cycles: the worker asks for one, each cycle plans the next.
    const { queue: pollQueue } = new PollQueue(this, 'PollQueue', { poller });
    for (const fn of [worker, poller]) {
      pollQueue.grantSendMessages(fn);
      fn.addEnvironment(ENV.pollQueueUrl, pollQueue.queueUrl);
    }

    const feeds = makeFunction('feeds', 'fetches due RSS/Atom/JSON feeds and enqueues their new items', {
      afterBundling: onDemandCommands(FEEDS_ON_DEMAND),
    });
    new FeedsReader(this, 'FeedsReader', { reader: feeds, table, queue });

    const { secret: notifyKey } = new NotifyKeySecret(this, 'NotifyKey');
    useNotifyKey(api, notifyKey);
    const deliveriesQueue = new DeliveriesQueue(this, 'DeliveriesQueue', {
      consumerTimeout: FUNCTION_SIZING.deliveries.timeout,
      maxReceiveCount: config.maxReceiveCount,
    });
    const deliveries = makeFunction('deliveries', 'turns job ends into notifications and delivers them');
    useTable(deliveries, table);
    useDeliveriesQueue(deliveries, deliveriesQueue.queue);
    useDeliveriesQueueForSend(api, deliveriesQueue.queue);
    useDeliveriesQueueForSend(poller, deliveriesQueue.queue);
    useNotifyKey(deliveries, notifyKey);
    addDeliveryTriggers(deliveries, {
      queue: deliveriesQueue.queue,
      table,
      streamFailures: deliveriesQueue.deadLetterQueue,
    });

    for (const fn of [api, worker, poller, feeds, deliveries]) {
      // grantReadWriteData covers the table's GSIs as `<table arn>/index/*`.
      acknowledge(
        fn.role!.node.findChild('DefaultPolicy'),
        `AwsSolutions-IAM5[Resource::<${this.getLogicalId(table.node.defaultChild as never)}.Arn>/index/*]`,
        'Queries the GSIs of this same table (status and per-user listings); the wildcard covers only its indexes.',
      );
    }

    const httpApi = new RelayHttpApi(this, 'HttpApi', {
      handler: api,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      logRetention,
    });

    const alarms = new RelayAlarms(this, 'Alarms', {
      queue,
      deadLetterQueue,
      worker,
      poller,
      alarmEmail: config.alarmEmail,
      // Several flood pauses in a row plus the batching window stay well under an hour.
      maxQueueAge: Duration.hours(1),
    });

    new RelayDashboard(this, 'Dashboard', {
      dashboardName: `fichier-relay-${config.stage}`,
      httpApi: httpApi.httpApi,
      queue,
      deadLetterQueue,
      table,
      functions: { api, worker, poller, feeds, deliveries },
      alarms: alarms.alarms,
    });

    this.functions = { api, worker, poller, feeds, deliveries };

    new CfnOutput(this, 'ApiUrl', { value: httpApi.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'SecretName', {
      value: secret.secretName,
      description: 'Secrets Manager secret to store the 1fichier API key in (put-secret-value)',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'DynamoDB table' });
    new CfnOutput(this, 'QueueUrl', { value: queue.queueUrl, description: 'SQS jobs queue' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetterQueue.queueUrl, description: 'SQS DLQ' });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: alarms.topic.topicArn,
      description: 'Subscribe to get alarms',
    });
  }
}
