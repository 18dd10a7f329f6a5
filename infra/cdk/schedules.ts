import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** Settings of the poller schedule. */
export interface PollScheduleProps {
  readonly poller: IFunction;
  readonly rateMinutes: number;
}

/** EventBridge rule that runs the poller/reporter at a fixed rate. */
export class PollSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: PollScheduleProps) {
    super(scope, id);
    const period = Duration.minutes(props.rateMinutes);

    // A failed poll is not retried by Lambda: the next scheduled run does the same work, and two
    // pollers at once only spend 1fichier calls. Failures show up in the poller-errors alarm.
    props.poller.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.max(60, period.toSeconds())),
    });

    this.rule = new events.Rule(this, 'Rule', {
      description: 'fichier-relay: run the poller/reporter (remote/ls.cgi, reconcile, report)',
      schedule: events.Schedule.rate(period),
      targets: [
        new targets.LambdaFunction(props.poller, {
          // Retries of the delivery itself (Lambda throttled or unavailable), bounded by one period.
          retryAttempts: 2,
          maxEventAge: Duration.seconds(Math.max(60, period.toSeconds())),
        }),
      ],
    });
  }
}

/** Settings of the poll queue. */
export interface PollQueueProps {
  readonly poller: IFunction;
}

/**
 * The poll queue: delayed messages that run the poller seconds after a submission, and then when the
 * previous cycle planned it (shared/jobs/poll-plan.ts). The poller drops a message that a newer cycle
 * made stale, so duplicates cost an invocation, never a 1fichier call. No DLQ: a lost or failed message
 * is replaced by the next submission's or by the safety-net schedule.
 */
export class PollQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: PollQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Triggers', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Longer than the poller's timeout (AWS guidance: 6 x) so one cycle holds its message.
      visibilityTimeout: Duration.minutes(6),
      // A trigger older than the safety net's period is worth nothing.
      retentionPeriod: Duration.hours(1),
    });
    acknowledge(
      this.queue,
      'AwsSolutions-SQS3',
      'Poll triggers carry no data: a failed one is replaced by the next submission or the safety-net schedule, so a DLQ would only collect noise.',
    );
    props.poller.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        // The fewest SQS allows: cycles never need to run side by side.
        maxConcurrency: 2,
      }),
    );
  }
}
