/**
 * What the delivery path needs to know about target types at run time, without the zod schemas of
 * `targets.ts` (which only the API's `POST /notifications` uses): the types, who reads each, and which
 * events a target gets. Keeps zod out of the poller's and the deliveries function's bundles.
 */
import type { NotifyEventType, SubscribableEventType } from './events.js';
import type { TargetConfig } from './targets.js';

export const TARGET_TYPES = ['webhook', 'discord', 'slack', 'telegram', 'ntfy', 'ifttt', 'zapier'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/** Who reads what a target type receives; decides coalescing and caps (noise.ts). */
export const TARGET_AUDIENCE: Readonly<Record<TargetType, { audience: 'machine' | 'person'; note: string }>> =
  {
    webhook: { audience: 'machine', note: 'a program: one signed delivery per event, deduped on webhook-id' },
    zapier: { audience: 'machine', note: 'a Zap runs once per job JSON it catches and maps its fields' },
    discord: { audience: 'person', note: 'a channel people read' },
    slack: { audience: 'person', note: 'a channel people read' },
    telegram: { audience: 'person', note: 'a chat people read' },
    ntfy: { audience: 'person', note: 'a push notification on a phone or desktop' },
    ifttt: { audience: 'person', note: 'an applet, usually a phone notification' },
  };

/** Whether a target gets events of this type: `events` for the subscribable ones, `digest` for reports. */
export function wantsEvent(target: Pick<TargetConfig, 'events' | 'digest'>, type: NotifyEventType): boolean {
  if (type === 'report') return target.digest !== 'none';
  return target.events.includes(type as SubscribableEventType);
}
