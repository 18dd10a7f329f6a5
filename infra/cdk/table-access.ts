import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';

/** What a function may do with one kind of item. `delete` includes `write`, which includes `read`. */
export type ItemAccess = 'read' | 'write' | 'delete';

/** One kind of item of the single table, by the start of its partition key (`pk`), and what a function does with it. */
export interface ItemKindAccess {
  /** Start of the partition key: `JOB#` matches `JOB#<id>`; an exact key (`REPORT`) has no `#`. */
  prefix: string;
  /** The item actions on these keys; omitted when the function only queries their partitions. */
  access?: ItemAccess;
  /** Whether the function Queries these partitions on the table itself (index queries are granted apart). */
  query?: boolean;
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
    why: 'POST /jobs, /hooks/{token}, GET /jobs, GET /status, retry (jobs are never deleted by the API)',
  },
  {
    prefix: 'TOKEN#',
    access: 'delete',
    why: 'token lookup and the usage counter (useCount, lastUsedAt) on every request; GET /tokens reads, POST /tokens creates, DELETE /tokens/{id} revokes',
  },
  {
    prefix: 'REPLAY#',
    access: 'delete',
    why: 'signed requests: the answer is claimed, stored and released (put, get, delete)',
  },
  {
    prefix: 'PACER#',
    access: 'write',
    why: 'POST /admin/circuit/reset reads and resets the pacer item; GET /status reads it',
  },
  {
    prefix: 'CLAIM#',
    query: true,
    why: "GET /jobs, GET /jobs/{id}, GET /status: a claim's remote requests show a job `submitted`",
  },
  {
    prefix: 'REPORTS#',
    query: true,
    why: 'GET /reports/latest, GET /reports (REPORTS#relay, REPORTS#user#<id>, newest first)',
  },
  {
    prefix: 'FEEDS#',
    access: 'delete',
    query: true,
    why: "feed routes: a user's feeds live in FEEDS#<user> (create, read, change, delete, list)",
  },
  { prefix: 'FEEDLOG#', access: 'read', why: "GET /feeds/{id}: the feed's recent item decisions" },
  {
    prefix: 'NOTIFY#',
    access: 'delete',
    query: true,
    why:
      "notification routes: a user's targets (TARGET#), REST hook subscriptions (HOOK#) and webhook signing " +
      'secret (SECRET) in NOTIFY#<user>, read, written and deleted; POST /jobs queries it for job-event listeners',
  },
  {
    prefix: 'DELIVERY#',
    access: 'read',
    query: true,
    why: "GET /deliveries lists, POST /notifications/{id}/test reads back, a user's deliveries (DELIVERY#<user>)",
  },
];

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
const DELETE_ACTIONS = ['dynamodb:DeleteItem'];
/**
 * Index reads: the per-user listings (gsi2: `USER#` jobs, `TOKENS#` tokens) and the pending partition
 * (gsi1) on circuit reset.
 */
const INDEX_ACTIONS = ['dynamodb:Query'];
const QUERY_ACTIONS = ['dynamodb:Query'];

const RANK: Record<ItemAccess, number> = { read: 0, write: 1, delete: 2 };

/** The `dynamodb:LeadingKeys` patterns of the kinds with at least `level` access. */
export function leadingKeyPatterns(kinds: readonly ItemKindAccess[], level: ItemAccess): string[] {
  return patternsOf(kinds.filter((k) => k.access !== undefined && RANK[k.access] >= RANK[level]));
}

/** The `dynamodb:LeadingKeys` patterns of the kinds whose partitions are queried on the table. */
export function queryKeyPatterns(kinds: readonly ItemKindAccess[]): string[] {
  return patternsOf(kinds.filter((k) => k.query === true));
}

function patternsOf(kinds: readonly ItemKindAccess[]): string[] {
  return kinds.flatMap((k) => (k.prefix.endsWith('#') ? [`${k.prefix}*`] : [k.prefix, `${k.prefix}#*`]));
}

/**
 * Grants a function exactly the item actions of `kinds` on the table, each limited to those partition
 * keys with a `dynamodb:LeadingKeys` condition (IAM's fine-grained access control for DynamoDB), plus
 * Query on the table limited the same way to the partitions of kinds with `query`, and Query on the
 * indexes. No Scan, no BatchWriteItem, no table-level action.
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
  const queried = queryKeyPatterns(kinds);
  if (queried.length > 0) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: QUERY_ACTIONS,
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': queried } },
      }),
    );
  }
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: INDEX_ACTIONS, resources: [`${table.tableArn}/index/*`] }),
  );
}
