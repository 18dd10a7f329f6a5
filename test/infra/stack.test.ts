import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { ACCESS_LOG_FIELDS, API_ROUTES } from '../../infra/cdk/api.js';
import { RUNTIME_ENV_NAMES } from '../../infra/cdk/lambda-defaults.js';
import { NOTIFY_API_ROUTES } from '../../infra/cdk/notify-routes.js';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../infra/cdk/queue.js';
import { createApiDeps } from '../../shared/app/api-deps.js';
import { loadConfig } from '../../shared/app/config.js';
import { TABLE_GSIS } from '../../shared/aws/table.js';
import { FUNCTION_ENV, type FunctionName } from '../../shared/config/function-env.js';
import {
  acknowledgments,
  type BuiltRelay,
  buildRelay,
  constructByLogicalId,
  logicalId,
} from './relay-app.js';

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }
>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const getAttArn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Context that differs from cdk.json, to check each setting reaches the template. */
const CUSTOM_CONTEXT = {
  'relay:deletionProtection': 'false',
  'relay:apiThrottleRateLimit': 7,
  // `-c key=value` on the CLI gives strings.
  'relay:apiThrottleBurstLimit': '13',
  'relay:alarmEmail': 'ops@example.com',
  'relay:pollRateMinutes': 7,
  'relay:tracing': 'active',
  'relay:logLevel': 'WARN',
};

let built: BuiltRelay;
let resources: Resources;
let custom: BuiltRelay;
const ofType = (type: string, from: Resources = resources) =>
  Object.entries(from).filter(([, r]) => r.Type === type);
/** The event source mappings of the worker (the poller has its own, on the poll queue). */
const workerMappings = () =>
  ofType('AWS::Lambda::EventSourceMapping').filter(
    ([, m]) =>
      JSON.stringify(m.Properties.FunctionName) ===
      JSON.stringify({ Ref: logicalId(built.stack.functions.worker) }),
  );

beforeAll(() => {
  built = buildRelay();
  resources = built.template.toJSON().Resources;
  custom = buildRelay(CUSTOM_CONTEXT);
});

describe('jobs queue', () => {
  it('sends messages to a dead-letter queue after at least 5 receives', () => {
    const jobs = resources[logicalId(built.stack.node.findChild('Queue').node.findChild('Jobs'))]!;
    const dlqId = logicalId(built.stack.node.findChild('Queue').node.findChild('DeadLetters'));
    const redrive = jobs.Properties.RedrivePolicy as {
      deadLetterTargetArn: unknown;
      maxReceiveCount: number;
    };

    expect(redrive.deadLetterTargetArn).toEqual(getAttArn(dlqId));
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
  });

  it('keeps messages invisible for at least 6 x the worker timeout', () => {
    const [, mapping] = workerMappings()[0]!;
    const queueId = (mapping.Properties.EventSourceArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const workerId = (mapping.Properties.FunctionName as { Ref: string }).Ref;
    const visibility = resources[queueId]!.Properties.VisibilityTimeout as number;
    const workerTimeout = resources[workerId]!.Properties.Timeout as number;

    expect(VISIBILITY_TIMEOUT_FACTOR).toBeGreaterThanOrEqual(6);
    expect(visibility).toBeGreaterThanOrEqual(6 * workerTimeout);
  });

  it('encrypts both queues with SSE-SQS and denies them over plain HTTP', () => {
    const queues = ofType('AWS::SQS::Queue');
    const policies = ofType('AWS::SQS::QueuePolicy');

    expect(queues.length).toBeGreaterThanOrEqual(2);
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      const policy = policies.find(([, p]) =>
        (p.Properties.Queues as unknown[]).some((q) => JSON.stringify(q) === JSON.stringify({ Ref: id })),
      );
      expect(policy, `queue policy of ${id}`).toBeDefined();
      const document = policy![1].Properties.PolicyDocument as {
        Statement: (Statement & { Condition?: unknown })[];
      };
      const statements = document.Statement;
      expect(statements, id).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('worker event source', () => {
  it('feeds the worker from the jobs queue with partial batch responses and a concurrency cap', () => {
    const mappings = workerMappings();
    const jobsId = logicalId(built.stack.node.findChild('Queue').node.findChild('Jobs'));

    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0]!;
    expect(mapping.Properties.FunctionName).toEqual({ Ref: logicalId(built.stack.functions.worker) });
    expect(mapping.Properties.EventSourceArn).toEqual(getAttArn(jobsId));
    expect(mapping.Properties.FunctionResponseTypes).toContain('ReportBatchItemFailures');
    const scaling = mapping.Properties.ScalingConfig as { MaximumConcurrency?: number };
    expect(scaling.MaximumConcurrency).toBeGreaterThanOrEqual(2);
    expect(scaling.MaximumConcurrency).toBeLessThanOrEqual(5);
  });
});

describe('poll queue', () => {
  it('runs the poller from delayed poll messages, at most 2 at once, and lets worker and poller send them', () => {
    const pollId = logicalId(built.stack.node.findChild('PollQueue').node.findChild('Triggers'));
    const pollerId = logicalId(built.stack.functions.poller);
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: pollerId }),
    );
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0]!;
    expect(mapping.Properties.EventSourceArn).toEqual(getAttArn(pollId));
    expect((mapping.Properties.ScalingConfig as { MaximumConcurrency?: number }).MaximumConcurrency).toBe(2);
    for (const fn of [built.stack.functions.worker, built.stack.functions.poller]) {
      const env = resources[logicalId(fn)]!.Properties.Environment as { Variables: Record<string, unknown> };
      expect(env.Variables.RELAY_POLL_QUEUE_URL).toEqual({ Ref: pollId });
    }
    const apiEnv = resources[logicalId(built.stack.functions.api)]!.Properties.Environment as {
      Variables: Record<string, unknown>;
    };
    expect(apiEnv.Variables.RELAY_POLL_QUEUE_URL).toBeUndefined();
  });

  it('keeps the EventBridge schedule as a safety net of at least 5 minutes, and POLL_INTERVAL_S at 30 s', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toContain('rate(5 minutes)');
    const env = resources[logicalId(built.stack.functions.poller)]!.Properties.Environment as {
      Variables: Record<string, unknown>;
    };
    expect(env.Variables.POLL_INTERVAL_S).toBe('30');
  });
});

describe('table', () => {
  it('has point-in-time recovery, encryption at rest, TTL, and is retained when the stack goes', () => {
    const tables = ofType('AWS::DynamoDB::Table');

    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect((table.Properties.TimeToLiveSpecification as { Enabled: boolean }).Enabled).toBe(true);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('takes deletion protection from the relay:deletionProtection context', () => {
    const protectedTable = ofType('AWS::DynamoDB::Table')[0]![1];
    const unprotected = ofType('AWS::DynamoDB::Table', custom.template.toJSON().Resources)[0]![1];

    expect(protectedTable.Properties.DeletionProtectionEnabled).toBe(true);
    expect(unprotected.Properties.DeletionProtectionEnabled).toBe(false);
  });

  it('has the indexes of shared/aws/table.ts with their projections (keys-only where the code reads keys only)', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0]!;
    const gsis = table.Properties.GlobalSecondaryIndexes as Array<{
      IndexName: string;
      Projection: { ProjectionType: string };
    }>;

    expect(gsis.map((g) => [g.IndexName, g.Projection.ProjectionType])).toEqual(
      TABLE_GSIS.map((g) => [g.name, g.projection]),
    );
  });
});

describe('functions', () => {
  it.each(Object.keys(FUNCTION_ENV) as FunctionName[])(
    '%s gets exactly its FUNCTION_ENV variables plus the runtime ones',
    (name) => {
      const fn = resources[logicalId(built.stack.functions[name])]!;
      const variables = Object.keys((fn.Properties.Environment as { Variables: object }).Variables);

      expect(variables.sort()).toEqual([...FUNCTION_ENV[name], ...RUNTIME_ENV_NAMES].sort());
    },
  );

  it('run on nodejs22.x arm64 with their own log group', () => {
    for (const [name, fn] of Object.entries(built.stack.functions)) {
      const props = resources[logicalId(fn)]!.Properties;
      expect(props.Runtime, name).toBe('nodejs22.x');
      expect(props.Architectures, name).toEqual(['arm64']);
      const logGroupId = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[logGroupId]!.Properties.RetentionInDays, name).toBeGreaterThan(0);
    }
  });

  it('trace nothing by default (X-Ray bills every trace), and trace actively with relay:tracing=active', () => {
    const customResources = custom.template.toJSON().Resources as Resources;
    for (const [name, fn] of Object.entries(built.stack.functions)) {
      expect(resources[logicalId(fn)]!.Properties.TracingConfig, name).toBeUndefined();
      const traced = customResources[logicalId(custom.stack.functions[name as FunctionName])]!;
      expect(traced.Properties.TracingConfig, name).toEqual({ Mode: 'Active' });
    }
  });

  it('log at INFO (one line per job state change) unless relay:logLevel says otherwise', () => {
    const customResources = custom.template.toJSON().Resources as Resources;
    const level = (r: Resources, fn: unknown) =>
      (r[logicalId(fn as never)]!.Properties.Environment as { Variables: Record<string, string> }).Variables
        .POWERTOOLS_LOG_LEVEL;
    for (const name of Object.keys(built.stack.functions) as FunctionName[]) {
      expect(level(resources, built.stack.functions[name]), name).toBe('INFO');
      expect(level(customResources, custom.stack.functions[name]), name).toBe('WARN');
    }
  });

  it('leave log filtering to Powertools, so Lambda never drops the EMF lines the metric alarms read', () => {
    for (const [name, fn] of Object.entries(built.stack.functions)) {
      const logging = resources[logicalId(fn)]!.Properties.LoggingConfig as Record<string, unknown>;
      expect(logging.ApplicationLogLevel, name).toBeUndefined();
      expect(logging.SystemLogLevel, name).toBeUndefined();
      expect(logging.LogFormat ?? 'Text', name).toBe('Text');
    }
  });

  it('carry no AWS managed policy (roles get only scoped inline grants)', () => {
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });
});

describe('IAM', () => {
  const statements = (from: Resources = resources) =>
    ofType('AWS::IAM::Policy', from).flatMap(([id, p]) =>
      (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((s) => ({ id, ...s })),
    );

  it('never grants a service-wide wildcard action', () => {
    for (const s of statements()) {
      for (const action of asArray(s.Action)) {
        expect(action, s.id).not.toMatch(/^(\*|dynamodb:\*|sqs:\*|secretsmanager:\*|logs:\*)$/);
      }
    }
  });

  // dynamodb:ListStreams has no resource-level permission: the deliveries function's stream trigger needs it on "*".
  const listStreamsOnly = (s: Statement) => asArray(s.Action).every((a) => a === 'dynamodb:ListStreams');

  it('grants no Resource "*" by default, except ListStreams for the stream trigger, acknowledged', () => {
    const wildcard = statements().filter((s) => asArray(s.Resource).includes('*'));
    expect(wildcard.filter((s) => !listStreamsOnly(s))).toEqual([]);
    for (const s of wildcard) {
      expect(s.id).toBe(logicalId(built.stack.functions.deliveries.role!.node.findChild('DefaultPolicy')));
      const policy = constructByLogicalId(built.stack, s.id);
      expect(acknowledgments(policy).get('AwsSolutions-IAM5[Resource::*]')).toMatch(/ListStreams/);
    }
  });

  it('with relay:tracing=active, grants Resource "*" only for X-Ray writes, acknowledged on that policy', () => {
    const wildcard = statements(custom.template.toJSON().Resources)
      .filter((s) => asArray(s.Resource).includes('*'))
      .filter((s) => !listStreamsOnly(s));

    expect(wildcard.length).toBeGreaterThan(0);
    for (const s of wildcard) {
      // CDK merges the deliveries role's ListStreams into the same "*" statement as its X-Ray writes.
      const allowed = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams'];
      expect(
        asArray(s.Action).every((a) => allowed.includes(a)),
        s.id,
      ).toBe(true);
      const policy = constructByLogicalId(custom.stack, s.id);
      expect(acknowledgments(policy).get('AwsSolutions-IAM5[Resource::*]'), s.id).toMatch(
        /X-Ray|ListStreams/,
      );
    }
  });
});

describe('HTTP API', () => {
  it('routes every documented path to the api function', () => {
    const routeKeys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);

    expect(routeKeys.sort()).toEqual(
      [
        'POST /jobs',
        'POST /hooks/{token}',
        'GET /jobs',
        'GET /jobs/{id}',
        'GET /reports/latest',
        'GET /reports',
        'POST /jobs/{id}/retry',
        'POST /tokens',
        'GET /tokens',
        'DELETE /tokens/{id}',
        'POST /admin/circuit/reset',
        'GET /health',
        'POST /feeds',
        'GET /feeds',
        'GET /feeds/{id}',
        'PATCH /feeds/{id}',
        'DELETE /feeds/{id}',
        'POST /feeds/preview',
        'POST /feeds/import',
        'GET /',
        'GET /assets/{name}',
        'GET /status',
        'GET /openapi.json',
        ...NOTIFY_API_ROUTES.map((r) => `${r.method} ${r.path}`),
      ].sort(),
    );
    expect(API_ROUTES).toHaveLength(routeKeys.length);
  });

  it('routes in AWS every route the API app serves (HEAD rides on GET)', () => {
    const app = createApiApp(
      createApiDeps(loadConfig({ RELAY_TABLE_NAME: 'routes-only', RELAY_QUEUE_URL: 'http://127.0.0.1:1/q' })),
    );
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.method !== 'HEAD' && !r.path.includes('*'))
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
    );
    const routeKeys = new Set(
      ofType('AWS::ApiGatewayV2::Route').map(([, r]) => String(r.Properties.RouteKey)),
    );
    expect([...served].filter((k) => !routeKeys.has(k))).toEqual([]);
  });

  it('writes JSON access logs that name the route, never the raw path with the hook token', () => {
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0]!;
    const settings = stage.Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };

    expect(settings.DestinationArn).toBeDefined();
    expect(JSON.parse(settings.Format)).toEqual(ACCESS_LOG_FIELDS);
    expect(settings.Format).toContain('$context.routeKey');
    expect(settings.Format).not.toMatch(/\$context\.(path|resourcePath)\b/);
  });

  it('throttles the stage with the rate and burst from context', () => {
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage', custom.template.toJSON().Resources)[0]!;

    expect(stage.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 7,
      ThrottlingBurstLimit: 13,
    });
  });
});

describe('alarms', () => {
  it('notify the alarm topic from every alarm', () => {
    const topicRef = { Ref: ofType('AWS::SNS::Topic')[0]![0] };
    const alarms = ofType('AWS::CloudWatch::Alarm');

    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toContainEqual(topicRef);
    }
  });

  it('cover the DLQ, worker errors and the custom FichierRelay metrics', () => {
    const dlqId = logicalId(built.stack.node.findChild('Queue').node.findChild('DeadLetters'));
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const custom = alarms.filter((a) => a.Namespace === 'FichierRelay').map((a) => a.MetricName);

    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(built.stack.functions.worker) } }],
      }),
    );
    expect(custom.sort()).toEqual(['AuthFailures', 'CircuitOpen', 'StuckJobs']);
    for (const a of alarms.filter((x) => x.Namespace === 'FichierRelay')) {
      expect(a.Dimensions).toEqual([{ Name: 'service', Value: 'fichier-relay' }]);
    }
  });

  it('only subscribe an e-mail address when relay:alarmEmail is set', () => {
    expect(ofType('AWS::SNS::Subscription')).toHaveLength(0);
    custom.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('dashboard', () => {
  it('graphs the custom FichierRelay metrics and every function, with or without tracing', () => {
    for (const from of [built, custom]) {
      const [, dashboard] = ofType('AWS::CloudWatch::Dashboard', from.template.toJSON().Resources)[0]!;
      const body = JSON.stringify(dashboard.Properties.DashboardBody);

      for (const metric of ['CircuitOpen', 'AuthFailures', 'StuckJobs']) expect(body).toContain(metric);
      for (const fn of Object.values(from.stack.functions)) expect(body).toContain(logicalId(fn));
    }
  });
});

describe('schedule and outputs', () => {
  it('runs the poller at the context rate', () => {
    built.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: Match.arrayWith([
        Match.objectLike({ Arn: getAttArn(logicalId(built.stack.functions.poller)) }),
      ]),
    });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 minutes)' });
  });

  it('outputs the API URL, secret name, table name and queue URL', () => {
    const outputs = Object.keys(built.template.toJSON().Outputs);

    expect(outputs).toEqual(expect.arrayContaining(['ApiUrl', 'SecretName', 'TableName', 'QueueUrl']));
  });
});
