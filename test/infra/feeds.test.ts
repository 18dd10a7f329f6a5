/**
 * CDK intent of the feeds reader: run every minute by EventBridge, least privilege (the table and
 * sending to the jobs queue; never the 1fichier secret, never consuming the queue), and every feed route
 * of the API function routed by API Gateway.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FEED_ROUTE_SCOPES } from '../../functions/routes/feeds.js';
import { FUNCTION_SIZING } from '../../infra/cdk/relay-stack.js';
import { FEED_FETCH_TIMEOUT_MS } from '../../shared/feeds/run-feeds.js';
import { type BuiltRelay, buildRelay, logicalId } from './relay-app.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let built: BuiltRelay;
let resources: Resources;

beforeAll(() => {
  built = buildRelay();
  resources = built.template.toJSON().Resources;
});

/** Every action granted to the role of the function with this logical id. */
function actionsOf(fnId: string): { actions: string[]; resources: string } {
  const roleRef = (resources[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleRef))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return {
    actions: statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
    resources: JSON.stringify(statements.map((s) => s.Resource)),
  };
}

describe('feeds reader', () => {
  it('is run every minute by an EventBridge rule', () => {
    const feedsId = logicalId(built.stack.functions.feeds);
    built.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [feedsId, 'Arn'] } })]),
    });
  });

  it('may use the table and send to the jobs queue, and nothing of the 1fichier side', () => {
    const { actions, resources: granted } = actionsOf(logicalId(built.stack.functions.feeds));
    const queueId = logicalId(built.stack.node.findChild('Queue').node.findChild('Jobs'));

    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem', 'sqs:SendMessage']),
    );
    expect(actions.filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    expect(actions).not.toContain('sqs:ReceiveMessage');
    expect(actions).not.toContain('sqs:DeleteMessage');
    expect(granted).toContain(queueId);
    const env = (
      resources[logicalId(built.stack.functions.feeds)]!.Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(Object.keys(env)).not.toContain('ONEFICHIER_SECRET_ID');
    expect(Object.keys(env)).not.toContain('ONEFICHIER_API_URL');
  });

  it('has a timeout longer than one fetch, and is not retried by Lambda (the next minute does the work)', () => {
    const timeoutS = FUNCTION_SIZING.feeds.timeout!.toSeconds();
    expect(timeoutS * 1000).toBeGreaterThan(FEED_FETCH_TIMEOUT_MS);
    built.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(built.stack.functions.feeds) },
      MaximumRetryAttempts: 0,
    });
  });

  it('every feed route is routed by API Gateway to the API function', () => {
    const routeKeys = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties.RouteKey);
    expect(routeKeys).toEqual(expect.arrayContaining(Object.keys(FEED_ROUTE_SCOPES)));
  });
});
