import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';

/** What a function may do with one kind of item. `delete` includes `write`, which includes `read`. */
export type ItemAccess = 'read' | 'write' | 'delete';

/** One kind of item of the single table, by the start of its partition key (`pk`), and what a function does with it. */
export interface ItemKindAccess {
  /** Start of the partition key: `JOB#` matches `JOB#<id>`; an exact key (`REPORT`) has no `#`. */
  prefix: string;
  access: ItemAccess;
  /** Which routes need it (kept in the policy's comment trail, for a reviewer). */
  why: string;
}

/**
 * The items the API function touches. **A new aggregate the API reads or writes is one line here**
 * (e.g. `{ prefix: 'FEED#', access: 'delete', why: 'feed routes' }`); without it AWS refuses the call
 * with AccessDeniedException (the local runtime does not check IAM, so only the CDK test and a deploy
 * see a missing line). The API never deletes a job and never scans.
 */
export const API_ITEM_ACCESS: readonly ItemKindAccess[] = [
  {
    prefix: 'JOB#',
    access: 'write',
    why: 'POST /jobs, /hooks/{token}, GET /jobs, retry (jobs are never deleted by the API)',
  },
  {
    prefix: 'TOKEN#',
    access: 'delete',
    why: 'token lookup on every request; token routes create and revoke',
  },
  { prefix: 'PACER#', access: 'write', why: 'POST /admin/circuit/reset reads and resets the pacer item' },
  { prefix: 'REPORT', access: 'read', why: 'GET /reports/latest (REPORT, REPORT#<user>)' },
];

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
const DELETE_ACTIONS = ['dynamodb:DeleteItem'];
/** Index reads: the per-user listing (gsi2) and the pending partition (gsi1) on circuit reset. */
const INDEX_ACTIONS = ['dynamodb:Query'];

const RANK: Record<ItemAccess, number> = { read: 0, write: 1, delete: 2 };

/** The `dynamodb:LeadingKeys` patterns of the kinds with at least `level` access. */
export function leadingKeyPatterns(kinds: readonly ItemKindAccess[], level: ItemAccess): string[] {
  return kinds
    .filter((k) => RANK[k.access] >= RANK[level])
    .flatMap((k) => (k.prefix.endsWith('#') ? [`${k.prefix}*`] : [k.prefix, `${k.prefix}#*`]));
}

/**
 * Grants a function exactly the item actions of `kinds` on the table, each limited to those partition
 * keys with a `dynamodb:LeadingKeys` condition (IAM's fine-grained access control for DynamoDB), plus
 * Query on the indexes. No Scan, no BatchWriteItem, no table-level action.
 */
export function grantItemAccess(
  fn: NodejsFunction,
  table: dynamodb.ITable,
  kinds: readonly ItemKindAccess[],
): void {
  const levels: [ItemAccess, string[]][] = [
    ['read', READ_ACTIONS],
    ['write', WRITE_ACTIONS],
    ['delete', DELETE_ACTIONS],
  ];
  for (const [level, actions] of levels) {
    const patterns = leadingKeyPatterns(kinds, level);
    if (patterns.length === 0) continue;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions,
        resources: [table.tableArn],
        // ForAllValues: every partition key the request touches (a BatchGetItem has several) must match.
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns } },
      }),
    );
  }
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: INDEX_ACTIONS, resources: [`${table.tableArn}/index/*`] }),
  );
}
