/** API Gateway routes of the notification side (functions/routes/notify.ts and uploads.ts). */
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';

const token = 'bearer/X-Api-Key/Basic client token';
const { GET, POST, DELETE } = apigwv2.HttpMethod;

/** One entry per route; `POST /hooks/subscriptions` wins over `POST /hooks/{token}` (the more specific). */
export const NOTIFY_API_ROUTES: readonly { method: apigwv2.HttpMethod; path: string; auth: string }[] = [
  { method: GET, path: '/account', auth: token },
  { method: POST, path: '/account/webhook-secret/rotate', auth: token },
  { method: GET, path: '/notifications', auth: token },
  { method: POST, path: '/notifications', auth: token },
  { method: DELETE, path: '/notifications/{id}', auth: token },
  { method: POST, path: '/notifications/{id}/test', auth: token },
  { method: POST, path: '/hooks/subscriptions', auth: token },
  { method: DELETE, path: '/hooks/subscriptions/{id}', auth: token },
  { method: GET, path: '/hooks/samples/{event}', auth: token },
  { method: GET, path: '/deliveries', auth: token },
  { method: GET, path: '/uploads.atom', auth: `${token} (feed readers send Basic)` },
  { method: GET, path: '/uploads.json', auth: `${token} (feed readers send Basic)` },
];
