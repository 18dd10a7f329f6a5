import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';
import { NOTIFY_API_ROUTES } from './notify-routes.js';

/** A route of the public API and why it carries no API Gateway authorizer. */
interface RouteSpec {
  readonly method: apigwv2.HttpMethod;
  readonly path: string;
  readonly auth: string;
}

/** The feed routes (functions/routes/feeds.ts), authenticated like the job routes. */
const FEED_ROUTE_KEYS = [
  'POST /feeds',
  'GET /feeds',
  'GET /feeds/{id}',
  'PATCH /feeds/{id}',
  'DELETE /feeds/{id}',
  'POST /feeds/preview',
  'POST /feeds/import',
];

function feedRoute(key: string): RouteSpec {
  const [method, path] = key.split(' ') as [apigwv2.HttpMethod, string];
  return { method, path, auth: 'bearer/X-Api-Key client token' };
}

/**
 * Every route the API function serves (functions/api.ts routes on `routeKey`). test/infra/api-routes.test.ts
 * fails when a route of the OpenAPI document (so of the app) is missing here: API Gateway would answer 404.
 */
export const API_ROUTES: readonly RouteSpec[] = [
  { method: apigwv2.HttpMethod.POST, path: '/jobs', auth: 'bearer/X-Api-Key client token' },
  {
    method: apigwv2.HttpMethod.POST,
    path: '/hooks/{token}',
    auth: 'per-user path token for callers that cannot set headers (create-only, revocable)',
  },
  { method: apigwv2.HttpMethod.GET, path: '/jobs', auth: 'bearer/X-Api-Key client token' },
  { method: apigwv2.HttpMethod.GET, path: '/jobs/{id}', auth: 'bearer/X-Api-Key client token' },
  { method: apigwv2.HttpMethod.POST, path: '/jobs/{id}/retry', auth: 'bearer/X-Api-Key client token' },
  { method: apigwv2.HttpMethod.GET, path: '/reports/latest', auth: 'bearer/X-Api-Key client token' },
  { method: apigwv2.HttpMethod.GET, path: '/reports', auth: 'bearer/X-Api-Key client token' },
  { method: apigwv2.HttpMethod.POST, path: '/tokens', auth: 'bearer/X-Api-Key client token (full scope)' },
  { method: apigwv2.HttpMethod.GET, path: '/tokens', auth: 'bearer/X-Api-Key client token (full scope)' },
  {
    method: apigwv2.HttpMethod.DELETE,
    path: '/tokens/{id}',
    auth: 'bearer/X-Api-Key client token (full scope)',
  },
  {
    method: apigwv2.HttpMethod.POST,
    path: '/admin/circuit/reset',
    auth: 'bearer/X-Api-Key client token (admin scope)',
  },
  ...FEED_ROUTE_KEYS.map(feedRoute),
  {
    method: apigwv2.HttpMethod.GET,
    path: '/openapi.json',
    auth: 'none: the public OpenAPI document, which holds no data and no secret',
  },
  {
    method: apigwv2.HttpMethod.GET,
    path: '/health',
    auth: 'none: a public liveness probe that returns no data',
  },
  {
    method: apigwv2.HttpMethod.GET,
    path: '/',
    auth: 'none: the status page (static HTML that signs in in the browser), no data',
  },
  {
    method: apigwv2.HttpMethod.GET,
    path: '/assets/{name}',
    auth: "none: the status page's static script and stylesheet, no data",
  },
  { method: apigwv2.HttpMethod.GET, path: '/status', auth: 'bearer/X-Api-Key client token' },
  ...NOTIFY_API_ROUTES,
];

/**
 * Access-log line, JSON. It logs `$context.routeKey` (`POST /hooks/{token}`) and never
 * `$context.path`, which for the hook route contains the caller's secret token.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  routeKey: '$context.routeKey',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  errorMessage: '$context.error.message',
} as const;

/** Settings of the HTTP API. */
export interface RelayHttpApiProps {
  readonly handler: IFunction;
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly logRetention: logs.RetentionDays;
}

/** API Gateway HTTP API in front of the API function, with JSON access logs and stage throttling. */
export class RelayHttpApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RelayHttpApiProps) {
    super(scope, id);

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own `$default` stage (URL without a stage prefix) so we can set logs and throttling on it.
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'fichier-relay: webhooks and clients create and read 1fichier remote-upload jobs',
      createDefaultStage: false,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const integration = new HttpLambdaIntegration('Api', props.handler);
    for (const spec of API_ROUTES) {
      const [route] = this.httpApi.addRoutes({ path: spec.path, methods: [spec.method], integration });
      const reason = `${spec.method} ${spec.path} is called by webhooks, IFTTT, Zapier and scripts; auth: ${spec.auth}, checked in the handler against hashed tokens in DynamoDB.`;
      acknowledge(
        route!,
        'AwsSolutions-APIG4',
        `${reason} A Lambda authorizer would add a second invocation per request for the same lookup.`,
      );
      acknowledge(
        route!,
        'AwsSolutions-COG4',
        `${reason} Machine callers have no Cognito user pool identity.`,
      );
    }
  }

  /** Base URL of the API (ends with `/`). */
  get url(): string {
    return this.stage.url;
  }
}
