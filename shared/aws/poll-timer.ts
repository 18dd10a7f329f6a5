/**
 * {@link PollTimer} on SQS: a message with `DelaySeconds` on the poll queue, whose event source mapping
 * runs the poller. A message costs one SQS request; a stale one (a newer cycle planned another) is read
 * and dropped by the poller without a cycle.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PollTimer, PollTrigger } from '../jobs/poll-plan.js';

/** SQS's longest `DelaySeconds`. */
export const MAX_SQS_DELAY_S = 900;

/** Sends poll triggers to `queueUrl`. */
export class SqsPollTimer implements PollTimer {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async pollIn(delayMs: number, trigger: Exclude<PollTrigger, { kind: 'tick' }>): Promise<void> {
    const delayS = Math.min(MAX_SQS_DELAY_S, Math.max(0, Math.ceil(delayMs / 1000)));
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(trigger),
        DelaySeconds: delayS,
      }),
    );
  }
}
