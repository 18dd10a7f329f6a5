import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { relayMetric } from './alarms.js';
import { RELAY_METRICS } from './metrics-contract.js';

/** What the dashboard shows. */
export interface RelayDashboardProps {
  readonly dashboardName: string;
  readonly httpApi: apigwv2.IHttpApi;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly table: dynamodb.ITable;
  readonly functions: Readonly<Record<'api' | 'worker' | 'poller' | 'deliveries', IFunction>>;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** One CloudWatch dashboard: ingest, queue, functions, 1fichier health, table, alarm states. */
export class RelayDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RelayDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    const fns = Object.entries(props.functions);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [props.httpApi.metricCount(sum)],
        right: [props.httpApi.metricClientError(sum), props.httpApi.metricServerError(sum)],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency p50 / p99 (ms)',
        left: [
          props.httpApi.metricLatency({ period, statistic: cloudwatch.Stats.p(50) }),
          props.httpApi.metricLatency({ period, statistic: cloudwatch.Stats.p(99) }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: '1fichier health (custom metrics)',
        left: Object.values(RELAY_METRICS).map((name) => relayMetric(name)),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Jobs queue',
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ period }),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, label: 'DLQ visible' }),
        ],
        right: [props.queue.metricApproximateAgeOfOldestMessage({ period })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Table consumed capacity',
        left: [
          props.table.metricConsumedWriteCapacityUnits(sum),
          props.table.metricConsumedReadCapacityUnits(sum),
        ],
        right: [props.table.metricThrottledRequestsForOperations(sum)],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invocations',
        left: fns.map(([name, fn]) => fn.metricInvocations({ ...sum, label: name })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: fns.map(([name, fn]) => fn.metricErrors({ ...sum, label: name })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration p99 (ms)',
        left: fns.map(([name, fn]) =>
          fn.metricDuration({ period, statistic: cloudwatch.Stats.p(99), label: name }),
        ),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throttles',
        left: fns.map(([name, fn]) => fn.metricThrottles({ ...sum, label: name })),
        width: 6,
      }),
    );
  }
}
