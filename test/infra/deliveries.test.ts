/** Intent of the delivery path in the stack: queue + DLQ, both triggers, the stream filter, least privilege. */
import { beforeAll, describe, expect, it } from 'vitest';
import { JOB_END_FILTER } from '../../infra/cdk/deliveries.js';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../infra/cdk/queue.js';
import { FUNCTION_SIZING } from '../../infra/cdk/relay-stack.js';
import { type BuiltRelay, buildRelay, logicalId } from './relay-app.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
let built: BuiltRelay;
let resources: Resources;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

beforeAll(() => {
  built = buildRelay();
  resources = built.template.toJSON().Resources;
});

const deliveriesRef = () => ({ Ref: logicalId(built.stack.functions.deliveries) });
const mappingsOfDeliveries = () =>
  ofType('AWS::Lambda::EventSourceMapping').filter(
    ([, m]) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify(deliveriesRef()),
  );
/** Every IAM statement attached to a function's role. */
function statementsOf(fnName: 'api' | 'worker' | 'poller' | 'deliveries') {
  const policyId = logicalId(built.stack.functions[fnName].role!.node.findChild('DefaultPolicy'));
  const doc = resources[policyId]!.Properties.PolicyDocument as {
    Statement: { Action: string | string[]; Resource: unknown }[];
  };
  return doc.Statement;
}
const grantsOn = (fnName: 'api' | 'worker' | 'poller' | 'deliveries', resourceId: string) =>
  statementsOf(fnName).some((s) => JSON.stringify(s.Resource).includes(resourceId));

describe('deliveries queue', () => {
  it('has a DLQ after at least 5 receives and a visibility timeout of 6x the function timeout', () => {
    const node = built.stack.node.findChild('DeliveriesQueue');
    const queue = resources[logicalId(node.node.findChild('Deliveries'))]!;
    const redrive = queue.Properties.RedrivePolicy as {
      deadLetterTargetArn: unknown;
      maxReceiveCount: number;
    };
    expect(redrive.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': [logicalId(node.node.findChild('DeadLetters')), 'Arn'],
    });
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      FUNCTION_SIZING.deliveries.timeout!.toSeconds() * VISIBILITY_TIMEOUT_FACTOR,
    );
  });
});

describe('deliveries triggers', () => {
  it('reads the queue and the table stream, both with partial batch responses', () => {
    const mappings = mappingsOfDeliveries();
    expect(mappings).toHaveLength(2);
    for (const [, m] of mappings)
      expect(m.Properties.FunctionResponseTypes).toContain('ReportBatchItemFailures');
  });

  it('filters the stream to jobs marked notify that just reached done or failed', () => {
    const stream = mappingsOfDeliveries().find(([, m]) => m.Properties.StartingPosition !== undefined)!;
    const patterns = (stream[1].Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map(
      (f) => JSON.parse(f.Pattern),
    );
    expect(patterns).toEqual([JOB_END_FILTER]);
    expect(JOB_END_FILTER.dynamodb.NewImage.notify).toEqual({ BOOL: [true] });
    expect(stream[1].Properties.BisectBatchOnFunctionError).toBe(true);
    expect(stream[1].Properties.DestinationConfig).toBeDefined();
  });

  it('gets old and new images from the table stream', () => {
    const [, table] = ofType('AWS::DynamoDB::Table')[0]!;
    expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });
});

describe('least privilege', () => {
  it('lets only the API and the deliveries function read the notification key', () => {
    const keyId = logicalId(built.stack.node.findChild('NotifyKey').node.findChild('Secret'));
    expect(grantsOn('api', keyId)).toBe(true);
    expect(grantsOn('deliveries', keyId)).toBe(true);
    expect(grantsOn('worker', keyId)).toBe(false);
    expect(grantsOn('poller', keyId)).toBe(false);
  });

  it('never lets the deliveries function read the 1fichier key or touch the jobs queue', () => {
    const fichierKey = logicalId(built.stack.node.findChild('FichierKey').node.findChild('Secret'));
    const jobs = logicalId(built.stack.node.findChild('Queue').node.findChild('Jobs'));
    expect(grantsOn('deliveries', fichierKey)).toBe(false);
    expect(grantsOn('deliveries', jobs)).toBe(false);
  });

  it('lets the deliveries function send retries to its own queue', () => {
    const queueId = logicalId(built.stack.node.findChild('DeliveriesQueue').node.findChild('Deliveries'));
    const actions = statementsOf('deliveries')
      .filter((s) => JSON.stringify(s.Resource).includes(queueId))
      .flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(
      expect.arrayContaining(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']),
    );
  });

  it('generates the notification key as 64 lowercase hex digits', () => {
    const secret = resources[logicalId(built.stack.node.findChild('NotifyKey').node.findChild('Secret'))]!;
    const gen = secret.Properties.GenerateSecretString as Record<string, unknown>;
    expect(gen).toMatchObject({
      PasswordLength: 64,
      ExcludePunctuation: true,
      ExcludeUppercase: true,
      ExcludeCharacters: 'ghijklmnopqrstuvwxyz',
    });
  });
});
