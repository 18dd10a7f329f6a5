import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

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
