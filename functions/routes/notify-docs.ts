/**
 * The OpenAPI description of the notification routes (functions/routes/notify.ts) and the uploads feeds
 * (functions/routes/uploads.ts). A target's body is the zod schema `POST /notifications` validates with
 * (shared/notify/targets.ts); the REST hook body is checked field by field in the route, and
 * `hookSubscriptionSchema` below states the same rules.
 */
import * as z from 'zod/mini';
import type { ApiDocs } from '../../shared/http/openapi.js';
import { NOTIFY_EVENT_TYPES } from '../../shared/notify/events.js';
import { HOOK_EVENTS } from '../../shared/notify/store.js';
import { TARGET_TYPES, targetConfigSchema } from '../../shared/notify/targets.js';

/** Adds the notification and uploads-feed routes (`createApiDocs` calls it). */
export function documentNotifyRoutes(docs: ApiDocs): void {
  // Built here, not at import: only the first GET /openapi.json needs them.
  /** `POST /hooks/subscriptions`: what Zapier's REST hook subscribe sends (no other field is accepted). */
  const hookSubscriptionSchema = z.strictObject({
    target_url: z.string().check(z.maxLength(2048)),
    event: z.enum(HOOK_EVENTS),
  });

  /** A target as the routes show it: its config with secrets redacted. */
  const targetViewSchema = z.looseObject({
    id: z.string(),
    createdAt: z.string(),
    type: z.enum(TARGET_TYPES),
  });

  const idParam = (what: string) => ({ id: { schema: z.string(), description: what } });

  docs.add(
    {
      method: 'get',
      path: '/account',
      summary: 'Your account: the secret that signs your webhook deliveries',
      description:
        'Needs the `full` scope. During a rotation, `previousSecretValidUntil` says until when the old one still signs.',
      tags: ['notifications'],
      auth: 'token',
      responses: {
        200: {
          description: 'the signing secret',
          schema: z.object({
            user: z.string(),
            webhookSecret: z.string(),
            previousSecretValidUntil: z.optional(z.string()),
          }),
        },
      },
    },
    {
      method: 'post',
      path: '/account/webhook-secret/rotate',
      summary: 'Rotate the webhook signing secret',
      description: 'Deliveries carry both signatures until `previousSecretValidUntil`.',
      tags: ['notifications'],
      auth: 'token',
      responses: {
        200: {
          description: 'the new secret',
          schema: z.object({ webhookSecret: z.string(), previousSecretValidUntil: z.string() }),
        },
      },
    },
    {
      method: 'post',
      path: '/notifications',
      summary: 'Add a notification target',
      description:
        `\`type\` is one of ${TARGET_TYPES.join(', ')}; \`events\` any of ${NOTIFY_EVENT_TYPES.join(', ')}. ` +
        'Secrets in the config (keys, tokens, URLs that hold one) are sealed at rest and redacted in answers.',
      tags: ['notifications'],
      auth: 'token',
      body: {
        'application/json': {
          schema: targetConfigSchema(),
          examples: {
            webhook: {
              type: 'webhook',
              url: 'https://example.com/relay-events',
              events: ['job.done', 'job.failed'],
            },
            ifttt: {
              type: 'ifttt',
              event: 'upload_done',
              key: 'your-ifttt-webhooks-key',
              events: ['job.done'],
            },
          },
        },
      },
      responses: { 201: { description: 'the target, secrets redacted', schema: targetViewSchema } },
    },
    {
      method: 'get',
      path: '/notifications',
      summary: 'Your notification targets',
      tags: ['notifications'],
      auth: 'token',
      responses: {
        200: { description: 'secrets redacted', schema: z.object({ targets: z.array(targetViewSchema) }) },
      },
    },
    {
      method: 'delete',
      path: '/notifications/{id}',
      summary: 'Remove a notification target',
      tags: ['notifications'],
      auth: 'token',
      params: idParam('the target id'),
      responses: { 204: { description: 'removed' } },
    },
    {
      method: 'post',
      path: '/notifications/{id}/test',
      summary: 'Send a sample `job.done` to a target and say how it answered',
      tags: ['notifications'],
      auth: 'token',
      params: idParam('the target id'),
      responses: {
        200: {
          description: "the delivery and the target's answer",
          schema: z.looseObject({ id: z.string(), delivered: z.boolean(), status: z.string() }),
        },
        202: { description: 'still on its way after 10 s: see `GET /deliveries`' },
      },
    },
    {
      method: 'post',
      path: '/hooks/subscriptions',
      summary: 'Subscribe a Zapier REST hook',
      tags: ['notifications'],
      auth: 'token',
      body: {
        'application/json': {
          schema: hookSubscriptionSchema,
          examples: {
            zapier: { target_url: 'https://hooks.zapier.com/hooks/standard/1/abc/', event: 'job.done' },
          },
        },
      },
      responses: {
        201: {
          description: 'the subscription (Zapier keeps the `id` to unsubscribe)',
          schema: z.object({ id: z.string(), event: z.enum(HOOK_EVENTS), target_url: z.string() }),
        },
      },
    },
    {
      method: 'delete',
      path: '/hooks/subscriptions/{id}',
      summary: 'Unsubscribe a Zapier REST hook',
      tags: ['notifications'],
      auth: 'token',
      params: idParam('the subscription id'),
      responses: { 204: { description: 'unsubscribed' } },
    },
    {
      method: 'get',
      path: '/hooks/samples/{event}',
      summary: "Sample deliveries for Zapier's performList (your latest jobs of that kind, or an example)",
      tags: ['notifications'],
      auth: 'token',
      params: { event: { schema: z.enum(HOOK_EVENTS), description: 'the hook event' } },
      responses: { 200: { description: 'a JSON array of jobs' } },
    },
    {
      method: 'get',
      path: '/deliveries',
      summary: 'Your notification deliveries, newest first',
      tags: ['notifications'],
      auth: 'token',
      query: {
        limit: { schema: z.string().check(z.regex(/^\d+$/)), description: 'how many, 1 to 200 (default 50)' },
      },
      queryExamples: { lastTen: 'limit=10' },
      responses: {
        200: {
          description: 'each delivery with its status and attempts',
          schema: z.object({
            deliveries: z.array(z.looseObject({ id: z.string(), status: z.string(), attempts: z.number() })),
          }),
        },
      },
    },
    {
      method: 'get',
      path: '/uploads.atom',
      summary: 'Your finished uploads as an Atom feed',
      description: 'For feed readers: the token as a Basic password works too.',
      tags: ['notifications'],
      auth: 'token',
      responses: { 200: { description: '`application/atom+xml`' } },
    },
    {
      method: 'get',
      path: '/uploads.json',
      summary: 'Your finished uploads as a JSON Feed 1.1',
      tags: ['notifications'],
      auth: 'token',
      responses: { 200: { description: '`application/feed+json`' } },
    },
  );
}
