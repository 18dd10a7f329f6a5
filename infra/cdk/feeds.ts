import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { useQueueForSend, useTable } from './grants.js';

/** EventBridge rate of the feeds reader: every minute; each feed keeps its own interval (≥ 5 min). */
export const FEEDS_RATE = Duration.minutes(1);

/** What the feeds reader is wired to. */
export interface FeedsReaderProps {
  /** functions/feeds.ts. */
  readonly reader: NodejsFunction;
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
}

/**
 * The feeds reader's grants and schedule. It reads and writes the table (feeds, their item keys, the jobs
 * it creates) and sends to the jobs queue; it never reads the 1fichier key, never consumes the queue and
 * calls no 1fichier endpoint, so it gets none of those permissions or settings.
 */
export class FeedsReader extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FeedsReaderProps) {
    super(scope, id);
    useTable(props.reader, props.table);
    useQueueForSend(props.reader, props.queue);

    // A failed run is not retried by Lambda: the next minute's run finds the same due feeds (a feed held
    // by a crashed run is due again when its lease ends). Overlapping runs are safe: each feed is leased.
    props.reader.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });

    this.rule = new events.Rule(this, 'Rule', {
      description: 'fichier-relay: fetch the feeds that are due and enqueue their new items',
      schedule: events.Schedule.rate(FEEDS_RATE),
      targets: [
        new targets.LambdaFunction(props.reader, { retryAttempts: 2, maxEventAge: Duration.seconds(60) }),
      ],
    });
  }
}
