/** Bad input to the notification routes (appended to the table in cases.ts). */
import type { BadCase } from './cases.js';

const authed = { authorization: 'Bearer {token}', 'content-type': 'application/json' };
const target = (name: string, body: string, code = 'invalidTarget'): BadCase => ({
  name,
  method: 'POST',
  path: '/notifications',
  headers: authed,
  body,
  status: 400,
  code,
});

export const NOTIFY_BAD_CASES: BadCase[] = [
  target('notification target of an unknown type', '{"type":"pager","url":"https://x.example/"}'),
  target(
    'notification target with a typo in a field',
    '{"type":"webhook","url":"https://x.example/","digset":"daily"}',
  ),
  target(
    'discord target with a non-Discord URL',
    '{"type":"discord","url":"https://example.com/api/webhooks/1/abc"}',
  ),
  target(
    'telegram target without a chat',
    '{"type":"telegram","botToken":"123456789:AAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}',
  ),
  target('webhook target on a private address', '{"type":"webhook","url":"http://10.0.0.1/hook"}'),
  target(
    'webhook target on loopback spelled as a number',
    '{"type":"webhook","url":"http://2130706433/hook"}',
  ),
  target('notification target that is not JSON', '{"type":', 'invalidJson'),
  {
    name: 'notification target sent as text',
    method: 'POST',
    path: '/notifications',
    headers: { authorization: 'Bearer {token}', 'content-type': 'text/plain' },
    body: 'webhook',
    status: 415,
    code: 'unsupportedMediaType',
  },
  {
    name: 'notification target without a token',
    method: 'POST',
    path: '/notifications',
    headers: { 'content-type': 'application/json' },
    body: '{"type":"webhook","url":"https://x.example/"}',
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'delete of an unknown notification target',
    method: 'DELETE',
    path: '/notifications/ntf_00000000000000000000',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'test of a malformed notification id',
    method: 'POST',
    path: '/notifications/..%2f..%2fetc/test',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'REST hook for an unknown event',
    method: 'POST',
    path: '/hooks/subscriptions',
    headers: authed,
    body: '{"target_url":"https://hooks.zapier.com/hooks/standard/1/abc/","event":"job.started"}',
    status: 400,
    code: 'invalidSubscription',
  },
  {
    name: 'REST hook on a private address',
    method: 'POST',
    path: '/hooks/subscriptions',
    headers: authed,
    body: '{"target_url":"http://169.254.169.254/latest","event":"job.done"}',
    status: 400,
    code: 'invalidSubscription',
  },
  {
    name: 'samples of an unknown event',
    method: 'GET',
    path: '/hooks/samples/job.started',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'deliveries with a limit out of range',
    method: 'GET',
    path: '/deliveries?limit=5000',
    headers: authed,
    status: 400,
    code: 'invalidLimit',
  },
  {
    name: 'deliveries with a limit that is not a number',
    method: 'GET',
    path: '/deliveries?limit=ten',
    headers: authed,
    status: 400,
    code: 'invalidLimit',
  },
  {
    name: 'uploads feed with a wrong token',
    method: 'GET',
    path: '/uploads.atom',
    headers: { authorization: 'Bearer {bad}' },
    status: 401,
    code: 'unauthorized',
  },
];
