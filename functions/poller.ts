/**
 * Poller/reporter Lambda: one `pollRemoteRequests` cycle per invocation that needs one. Two triggers:
 * the slow EventBridge schedule (a safety net, every few minutes: always a cycle), and the poll queue,
 * whose delayed messages come from the workers ("a request was just sent: look soon") and from the
 * previous cycle ("next cycle in N s"). A message that a newer cycle made stale runs nothing.
 */
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../shared/app/config.js';
import { createPollerDeps, type PollerDeps } from '../shared/app/poller-deps.js';
import { type PollTrigger, parsePollTrigger } from '../shared/jobs/poll-plan.js';
import { pollOnTriggers } from '../shared/jobs/poll-triggers.js';
import { runNotifyWatches } from '../shared/notify/watches.js';
import type { Report } from '../shared/reports/store.js';

const isSqsEvent = (event: unknown): event is SQSEvent =>
  typeof event === 'object' &&
  event !== null &&
  Array.isArray((event as { Records?: unknown }).Records) &&
  (event as SQSEvent).Records.every((r) => r?.eventSource === 'aws:sqs');

/** The triggers an invocation carries: a schedule tick, or the poll messages of an SQS batch. */
export function triggersOf(event: unknown): PollTrigger[] {
  if (!isSqsEvent(event)) return [{ kind: 'tick' }];
  return event.Records.flatMap((r) => {
    const t = parsePollTrigger(r.body);
    return t ? [t] : [];
  });
}

/** A schedule tick (or no event: a direct call) always runs a cycle; poll messages may not. */
export interface PollerHandler {
  (event?: { Records?: undefined; [key: string]: unknown }): Promise<Report>;
  (event: SQSEvent | unknown): Promise<Report | undefined>;
}

/**
 * Builds the poller handler over the given deps. Returns the cycle's report, or `undefined` when the
 * triggers did not call for a cycle.
 */
export function createPollerHandler(deps: PollerDeps): PollerHandler {
  return (async (event?: unknown) => {
    try {
      const report = await pollOnTriggers(triggersOf(event), deps);
      if (!report) return undefined;
      await runNotifyWatches(report, deps);
      return report;
    } finally {
      deps.metrics.flush();
    }
  }) as PollerHandler;
}

let lambdaHandler: PollerHandler | undefined;

/** EventBridge schedule and poll-queue entry point; deps are built on the first call. */
export const handler: PollerHandler = ((event?: unknown) => {
  lambdaHandler ??= createPollerHandler(createPollerDeps(loadConfig()));
  return lambdaHandler(event);
}) as PollerHandler;
