import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  METRICS_SERVICE_DIMENSION,
  RELAY_METRICS,
  type RelayMetricName,
} from './metrics-contract.js';

/** What the alarms watch. */
export interface RelayAlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly worker: IFunction;
  readonly poller: IFunction;
  /** Subscribed to the topic by e-mail when not empty (the address must confirm the subscription). */
  readonly alarmEmail: string;
  /** A queued message older than this means the worker is not draining the queue. */
  readonly maxQueueAge: Duration;
}

const PERIOD = Duration.minutes(5);

/** A custom metric from the handlers (metrics-contract.ts), summed over {@link PERIOD}. */
export function relayMetric(name: RelayMetricName): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { [METRICS_SERVICE_DIMENSION]: METRICS_SERVICE },
    statistic: cloudwatch.Stats.SUM,
    period: PERIOD,
  });
}

/**
 * The SNS topic operators subscribe to and the alarms that notify it (on ALARM and back to OK).
 * Missing data is "not breaching" everywhere: no traffic is not a fault.
 */
export class RelayAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: RelayAlarmsProps) {
    super(scope, id);

    // No SSE on the topic: CloudWatch can only publish to an encrypted topic through a customer
    // managed KMS key whose policy trusts cloudwatch.amazonaws.com ($1/month); alarm texts are not secret.
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'fichier-relay alarms', enforceSSL: true });
    if (props.alarmEmail !== '') {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    this.add('DeadLettersNotEmpty', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: PERIOD,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      description: 'Jobs-queue messages reached the DLQ: inspect them, fix the cause, then redrive.',
    });
    this.add('QueueNotDraining', {
      metric: props.queue.metricApproximateAgeOfOldestMessage({
        period: PERIOD,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: props.maxQueueAge.toSeconds(),
      evaluationPeriods: 3,
      description: 'The oldest queued job has waited too long: the worker is failing, paused or throttled.',
    });
    this.add('WorkerErrors', {
      metric: props.worker.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      description: 'The worker crashed or timed out (per-record failures are not errors; see its logs).',
    });
    this.add('PollerErrors', {
      metric: props.poller.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      description: 'The poller/reporter crashed or timed out: job states stop advancing.',
    });
    this.add('CircuitOpen', {
      metric: relayMetric(RELAY_METRICS.circuitOpen),
      threshold: 1,
      description: 'The 1fichier circuit breaker opened: all calls for the key are paused.',
    });
    this.add('AuthFailures', {
      metric: relayMetric(RELAY_METRICS.authFailures),
      threshold: 1,
      description: '1fichier rejected the API key: check the secret value and the premium status.',
    });
    this.add('StuckJobs', {
      metric: relayMetric(RELAY_METRICS.stuckJobs),
      threshold: 1,
      description: 'Jobs stayed submitted past RELAY_STUCK_AFTER_S without 1fichier finishing them.',
    });
  }

  private add(
    id: string,
    spec: { metric: cloudwatch.IMetric; threshold: number; description: string; evaluationPeriods?: number },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `fichier-relay: ${spec.description}`,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
  }
}
