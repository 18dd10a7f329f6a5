/**
 * Least privilege for the API function: only the DynamoDB item actions it uses, each limited to the
 * partition-key prefixes of the items it touches (`dynamodb:LeadingKeys`), Query on the table only in the
 * partitions it lists (a claim's remote requests, reports, a user's feeds), no Scan, and no DeleteItem
 * that could reach a job.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ITEM_ACCESS, leadingKeyPatterns, queryKeyPatterns } from '../../infra/cdk/table-access.js';
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

  it('can delete token, replay, feed and notification-setting items but never a job or a remote request', () => {
    const deletes = dynamo(statementsOf('api')).filter((s) =>
      asArray(s.Action).includes('dynamodb:DeleteItem'),
    );
    expect(deletes).toHaveLength(1);
    const patterns = leadingKeys(deletes[0]!)!;
    for (const key of ['TOKEN#abc', 'REPLAY#tk_1#msg_1', 'FEEDS#alice', 'NOTIFY#alice']) {
      expect(
        patterns.some((p) => matches(p, key)),
        key,
      ).toBe(true);
    }
    for (const key of [
      'JOB#abc',
      'CLAIM#c1',
      'FEEDSEEN#fd_1',
      'REPORTS#relay',
      'PACER#k',
      'DELIVERY#alice',
    ]) {
      expect(
        patterns.some((p) => matches(p, key)),
        key,
      ).toBe(false);
    }
  });

  const allowed = (action: string, key: string) =>
    dynamo(statementsOf('api')).some(
      (s) =>
        asArray(s.Action).includes(action) &&
        !JSON.stringify(s.Resource).includes('/index/*') &&
        (leadingKeys(s) ?? []).some((p) => matches(p, key)),
    );

  it('reads and writes jobs, and cannot write reports or remote requests', () => {
    expect(allowed('dynamodb:PutItem', 'JOB#j1')).toBe(true);
    expect(allowed('dynamodb:UpdateItem', 'JOB#j1')).toBe(true);
    expect(allowed('dynamodb:BatchGetItem', 'JOB#j1')).toBe(true);
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
      expect(allowed(action, 'REPORTS#relay'), action).toBe(false);
      expect(allowed(action, 'CLAIM#c1'), action).toBe(false);
    }
  });

  it("queries a claim's remote requests and the reports on the table, and no other partition", () => {
    expect(allowed('dynamodb:Query', 'CLAIM#c1')).toBe(true);
    expect(allowed('dynamodb:Query', 'REPORTS#relay')).toBe(true);
    expect(allowed('dynamodb:Query', 'REPORTS#user#alice')).toBe(true);
    expect(allowed('dynamodb:Query', 'FEEDS#alice')).toBe(true);
    expect(allowed('dynamodb:Query', 'NOTIFY#alice')).toBe(true);
    expect(allowed('dynamodb:Query', 'DELIVERY#alice')).toBe(true);
    for (const key of ['JOB#j1', 'TOKEN#h', 'REPLAY#t#w', 'FEEDSEEN#fd_1', 'PACER#k']) {
      expect(allowed('dynamodb:Query', key), key).toBe(false);
    }
    // Query-only kinds get no item action.
    expect(allowed('dynamodb:GetItem', 'CLAIM#c1')).toBe(false);
    expect(allowed('dynamodb:GetItem', 'REPORTS#relay')).toBe(false);
    expect(queryKeyPatterns(API_ITEM_ACCESS)).toEqual([
      'CLAIM#*',
      'REPORTS#*',
      'FEEDS#*',
      'NOTIFY#*',
      'DELIVERY#*',
    ]);
  });

  it('counts token use, keeps signed answers, reads the pacer, the feed log and the deliveries', () => {
    expect(allowed('dynamodb:GetItem', 'TOKEN#h')).toBe(true);
    expect(allowed('dynamodb:BatchGetItem', 'TOKEN#h')).toBe(true);
    expect(allowed('dynamodb:UpdateItem', 'TOKEN#h')).toBe(true); // useCount, lastUsedAt
    expect(allowed('dynamodb:PutItem', 'REPLAY#tk_1#msg_1')).toBe(true);
    expect(allowed('dynamodb:GetItem', 'REPLAY#tk_1#msg_1')).toBe(true);
    expect(allowed('dynamodb:GetItem', 'PACER#k')).toBe(true);
    expect(allowed('dynamodb:UpdateItem', 'PACER#k')).toBe(true);
    expect(allowed('dynamodb:GetItem', 'FEEDLOG#fd_1')).toBe(true);
    expect(allowed('dynamodb:PutItem', 'FEEDLOG#fd_1')).toBe(false);
    expect(allowed('dynamodb:GetItem', 'FEEDSEEN#fd_1')).toBe(false);
    expect(allowed('dynamodb:PutItem', 'NOTIFY#alice')).toBe(true);
    expect(allowed('dynamodb:GetItem', 'DELIVERY#alice')).toBe(true);
    expect(allowed('dynamodb:PutItem', 'DELIVERY#alice')).toBe(false);
  });

  it('queries the indexes (the per-user job and token listings, the pending partition)', () => {
    const onIndexes = dynamo(statementsOf('api')).filter((s) =>
      JSON.stringify(s.Resource).includes('/index/*'),
    );
    expect(onIndexes.flatMap((s) => asArray(s.Action))).toEqual(['dynamodb:Query']);
  });

  it('a new aggregate is one line: its prefix reaches the conditions at the level it asks for', () => {
    const kinds = [...API_ITEM_ACCESS, { prefix: 'NOTE#', access: 'delete' as const, why: 'notes' }];
    expect(leadingKeyPatterns(kinds, 'delete')).toContain('NOTE#*');
    expect(leadingKeyPatterns(kinds, 'read')).toContain('NOTE#*');
    expect(leadingKeyPatterns(kinds, 'delete')).not.toContain('JOB#*');
    expect(queryKeyPatterns(kinds)).not.toContain('NOTE#*');
  });

  it('the worker and the poller keep their own grants (they are not narrowed by the API list)', () => {
    const workerActions = dynamo(statementsOf('worker')).flatMap((s) => asArray(s.Action));
    expect(workerActions).toContain('dynamodb:DeleteItem');
  });
});

describe('1fichier key secret', () => {
  it('is created holding the placeholder the relay refuses, not a generated random string', () => {
    // The 1fichier key's secret (the notification key's is generated: nobody types it in).
    const secrets = Object.entries(
      built.template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: Record<string, unknown> }
      >,
    )
      .filter(([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && id.startsWith('FichierKey'))
      .map(([, r]) => r);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.Properties.SecretString).toBe(FICHIER_KEY_PLACEHOLDER);
    expect(secrets[0]!.Properties.GenerateSecretString).toBeUndefined();
  });
});
