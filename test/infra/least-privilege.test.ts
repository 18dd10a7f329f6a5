/**
 * Least privilege for the API function: only the DynamoDB item actions it uses, each limited to the
 * partition-key prefixes of the items it touches (`dynamodb:LeadingKeys`), no Scan, and no DeleteItem
 * that could reach a job.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ITEM_ACCESS, leadingKeyPatterns } from '../../infra/cdk/table-access.js';
import { FICHIER_KEY_PLACEHOLDER } from '../../shared/config/fichier-key-placeholder.js';
import { type BuiltRelay, buildRelay } from './relay-app.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string[]>>;
}
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let built: BuiltRelay;
const statementsOf = (fn: 'api' | 'worker' | 'poller'): Statement[] => {
  const role = built.stack.functions[fn].role!;
  const policy = role.node.findChild('DefaultPolicy').node.defaultChild as never;
  const id = built.stack.getLogicalId(policy);
  const resource = built.template.toJSON().Resources[id] as {
    Properties: { PolicyDocument: { Statement: Statement[] } };
  };
  return resource.Properties.PolicyDocument.Statement;
};
const dynamo = (statements: Statement[]) =>
  statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
const leadingKeys = (s: Statement) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
/** Whether a LeadingKeys pattern (`JOB#*`) matches a partition key. */
const matches = (pattern: string, key: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(key);

beforeAll(() => {
  built = buildRelay();
});

describe('API function DynamoDB policy', () => {
  it('has no Scan, no BatchWriteItem and no table-wide dynamodb:* action', () => {
    const actions = dynamo(statementsOf('api')).flatMap((s) => asArray(s.Action));
    expect(actions.length).toBeGreaterThan(0);
    for (const forbidden of [
      'dynamodb:Scan',
      'dynamodb:BatchWriteItem',
      'dynamodb:*',
      'dynamodb:DeleteTable',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
  });

  it('limits every item action on the table to the key prefixes it uses', () => {
    for (const s of dynamo(statementsOf('api'))) {
      const onIndexes = JSON.stringify(s.Resource).includes('/index/*');
      if (onIndexes) {
        expect(asArray(s.Action)).toEqual(['dynamodb:Query']);
        continue;
      }
      expect(leadingKeys(s), JSON.stringify(s.Action)).toBeDefined();
    }
  });

  it('can delete token items but never a job', () => {
    const deletes = dynamo(statementsOf('api')).filter((s) =>
      asArray(s.Action).includes('dynamodb:DeleteItem'),
    );
    expect(deletes).toHaveLength(1);
    const patterns = leadingKeys(deletes[0]!)!;
    expect(patterns.some((p) => matches(p, 'TOKEN#abc'))).toBe(true);
    expect(patterns.some((p) => matches(p, 'JOB#abc'))).toBe(false);
  });

  it('reads and writes jobs, reads reports, and cannot write reports or remote requests', () => {
    const statements = dynamo(statementsOf('api'));
    const allowed = (action: string, key: string) =>
      statements.some(
        (s) => asArray(s.Action).includes(action) && (leadingKeys(s) ?? []).some((p) => matches(p, key)),
      );
    expect(allowed('dynamodb:PutItem', 'JOB#j1')).toBe(true);
    expect(allowed('dynamodb:UpdateItem', 'JOB#j1')).toBe(true);
    expect(allowed('dynamodb:GetItem', 'REPORT#alice')).toBe(true);
    expect(allowed('dynamodb:GetItem', 'REPORT')).toBe(true);
    expect(allowed('dynamodb:PutItem', 'REPORT#alice')).toBe(false);
    expect(allowed('dynamodb:UpdateItem', 'REMOTE#123')).toBe(false);
    expect(allowed('dynamodb:GetItem', 'REMOTE#123')).toBe(false);
  });

  it('a new aggregate is one line: its prefix reaches the conditions at the level it asks for', () => {
    const kinds = [...API_ITEM_ACCESS, { prefix: 'FEED#', access: 'delete' as const, why: 'feeds' }];
    expect(leadingKeyPatterns(kinds, 'delete')).toContain('FEED#*');
    expect(leadingKeyPatterns(kinds, 'read')).toContain('FEED#*');
    expect(leadingKeyPatterns(kinds, 'delete')).not.toContain('JOB#*');
  });

  it('the worker and the poller keep their own grants (they are not narrowed by the API list)', () => {
    const workerActions = dynamo(statementsOf('worker')).flatMap((s) => asArray(s.Action));
    expect(workerActions).toContain('dynamodb:DeleteItem');
  });
});

describe('1fichier key secret', () => {
  it('is created holding the placeholder the relay refuses, not a generated random string', () => {
    const secrets = Object.values(
      built.template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: Record<string, unknown> }
      >,
    ).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.Properties.SecretString).toBe(FICHIER_KEY_PLACEHOLDER);
    expect(secrets[0]!.Properties.GenerateSecretString).toBeUndefined();
  });
});
