/**
 * {@link JobStore} on the single DynamoDB table (docs/pipeline.md). Single-item conditional writes only:
 * dynalite has no transactions, and none are needed because every fact lives on one item.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isTerminal, type JobStatus } from '../jobs/model.js';
import {
  type Expected,
  type JobPatch,
  type JobRecord,
  type JobStore,
  type NewJob,
  type Page,
  TransitionConflictError,
} from '../jobs/store.js';
import { isConditionFailure } from './dynamo-errors.js';
import { decodeCursor, encodeCursor, type Item, iso, withoutPlumbing } from './dynamo-keys.js';
import { PENDING_PARTITION, STATUS_INDEX, TTL_ATTRIBUTE, USER_INDEX } from './table.js';

const JOB_SK = 'JOB';
const jobKey = (id: string) => ({ pk: `JOB#${id}`, sk: JOB_SK });

/** Attributes that are table plumbing, not job fields. */
const PLUMBING = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', TTL_ATTRIBUTE]);

const toRecord = (item: Item): JobRecord => withoutPlumbing(item, PLUMBING) as unknown as JobRecord;

/** Options of {@link DynamoJobStore}. */
export interface DynamoJobStoreOptions {
  /** Terminal jobs expire (and free their dedupe key) after this many days. @default 30 */
  jobTtlDays?: number;
}

/** The job store on DynamoDB through the DocumentClient. */
export class DynamoJobStore implements JobStore {
  private readonly ttlS: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    opts: DynamoJobStoreOptions = {},
  ) {
    this.ttlS = (opts.jobTtlDays ?? 30) * 86_400;
  }

  async createJob(job: NewJob, now: number): Promise<{ job: JobRecord; created: boolean }> {
    const at = iso(now);
    const record: JobRecord = {
      id: job.id,
      userId: job.userId,
      url: job.url,
      status: 'queued',
      folder: job.folder,
      source: job.source,
      createdAt: at,
      updatedAt: at,
      attempts: 0,
      ...(job.callbackUrl ? { callbackUrl: job.callbackUrl } : {}),
      ...(job.notify ? { notify: true } : {}),
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...jobKey(job.id),
            ...record,
            // Not in the pending index: the job's SQS message is its reminder. It enters the index only
            // when that message may be lost (see markPending).
            gsi2pk: `USER#${job.userId}`,
            gsi2sk: `${at}#${job.id}`,
          },
          // The id is hash(user, url, folder): an existing item is the duplicate.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { job: record, created: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const existing = await this.getJob(job.id);
    // Only possible if the duplicate expired between the put and the read; the caller may retry.
    if (!existing) throw new TransitionConflictError(job.id, { status: 'queued' });
    return { job: existing, created: false };
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: jobKey(id), ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async getJobs(ids: readonly string[], consistent = true): Promise<JobRecord[]> {
    const unique = [...new Set(ids)];
    const found: JobRecord[] = [];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Item[] | undefined = unique.slice(i, i + 100).map(jobKey);
      for (let round = 0; keys?.length && round < 8; round++) {
        const out = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: consistent } },
          }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) found.push(toRecord(item));
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined;
      }
      if (keys?.length) throw new Error(`BatchGetItem left ${keys.length} keys unprocessed`);
    }
    return found;
  }

  async transition(id: string, expected: Expected, patch: JobPatch, now: number): Promise<JobRecord> {
    const at = iso(now);
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
    const values: Item = { ':status': patch.status, ':updatedAt': at, ':from': expected.status };
    const set = ['#status = :status', '#updatedAt = :updatedAt'];
    const remove: string[] = [];
    const put = (field: string, value: unknown) => {
      if (value === undefined) return;
      names[`#${field}`] = field;
      if (value === null) remove.push(`#${field}`);
      else {
        values[`:${field}`] = value;
        set.push(`#${field} = :${field}`);
      }
    };
    const terminal = isTerminal(patch.status);
    // Terminal jobs drop any claim and lease.
    put('claimToken', terminal && patch.claimToken === undefined ? null : patch.claimToken);
    put('leaseUntil', terminal && patch.leaseUntil === undefined ? null : patch.leaseUntil);
    put('submitAttemptAt', patch.submitAttemptAt);
    put('submittedAt', patch.submittedAt);
    put('remoteId', patch.remoteId);
    put('fileUrl', patch.fileUrl);
    put('error', patch.error);
    put('unknownAnswer', patch.unknownAnswer);
    put('attemptsAtRetry', patch.attemptsAtRetry);
    if (patch.retriesDelta) {
      names['#retries'] = 'retries';
      values[':retriesDelta'] = patch.retriesDelta;
      values[':zero'] = 0;
      set.push('#retries = if_not_exists(#retries, :zero) + :retriesDelta');
    }
    put('nextAttemptAt', terminal && patch.nextAttemptAt === undefined ? null : patch.nextAttemptAt);
    put('waitReason', terminal && patch.waitReason === undefined ? null : patch.waitReason);
    if (patch.attemptsDelta) {
      names['#attempts'] = 'attempts';
      values[':delta'] = patch.attemptsDelta;
      set.push('#attempts = #attempts + :delta');
    }
    if (patch.submitAttemptAt !== undefined || patch.status !== 'submitting') {
      // Reconciliation progress belongs to one submit attempt.
      names['#checked'] = 'reconcileCheckedThrough';
      names['#absent'] = 'absentSince';
      remove.push('#checked', '#absent');
    }
    const pending = (st: JobStatus) => st === 'queued' || st === 'submitting';
    if (pending(expected.status) && !pending(patch.status)) {
      // Leaving the pending phase: out of the status index (a `submitted` job is followed through its
      // remote request's item).
      names['#gsi1pk'] = 'gsi1pk';
      names['#gsi1sk'] = 'gsi1sk';
      remove.push('#gsi1pk', '#gsi1sk');
    }
    if (terminal) {
      names['#ttl'] = TTL_ATTRIBUTE;
      values[':ttl'] = Math.floor(now / 1000) + this.ttlS;
      set.push('#ttl = :ttl');
    } else if (isTerminal(expected.status)) {
      // A retry: the job lives again, so it must not expire.
      names['#ttl'] = TTL_ATTRIBUTE;
      remove.push('#ttl');
    }
    let condition = '#status = :from';
    if (expected.claimToken !== undefined) {
      names['#expClaim'] = 'claimToken';
      values[':expClaim'] = expected.claimToken;
      condition += ' AND #expClaim = :expClaim';
    }
    if (expected.dueBy !== undefined) {
      names['#expNext'] = 'nextAttemptAt';
      values[':dueBy'] = expected.dueBy;
      condition += ' AND (attribute_not_exists(#expNext) OR #expNext <= :dueBy)';
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(id),
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: `attribute_exists(pk) AND ${condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailure(err)) throw new TransitionConflictError(id, expected, { cause: err });
      throw err;
    }
  }

  async markPending(ids: readonly string[], now: number): Promise<number> {
    let marked = 0;
    for (const id of ids) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: jobKey(id),
            UpdateExpression: 'SET #gsi1pk = :pending, #gsi1sk = :sk',
            ConditionExpression:
              'attribute_exists(pk) AND attribute_not_exists(#gsi1pk) AND (#status = :queued OR #status = :submitting)',
            ExpressionAttributeNames: { '#gsi1pk': 'gsi1pk', '#gsi1sk': 'gsi1sk', '#status': 'status' },
            ExpressionAttributeValues: {
              ':pending': PENDING_PARTITION,
              ':sk': `${iso(now)}#${id}`,
              ':queued': 'queued',
              ':submitting': 'submitting',
            },
          }),
        );
        marked += 1;
      } catch (err) {
        // Already in the index, ended, or gone: nothing to remember.
        if (!isConditionFailure(err)) throw err;
      }
    }
    return marked;
  }

  /**
   * Every `queued` or `submitting` job, by a Scan: only for the local runtime's start, whose queue
   * (fauxqs) keeps no messages across restarts. No AWS path scans.
   */
  async scanUnfinished(): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :job AND (#status = :queued OR #status = :submitting)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':job': JOB_SK, ':queued': 'queued', ':submitting': 'submitting' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(toRecord(item));
      start = page.LastEvaluatedKey as Item | undefined;
    } while (start);
    return out;
  }

  async recordReconcileProgress(
    id: string,
    claimToken: string,
    progress: { checkedThrough?: number; absentSince?: number },
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status', '#claim': 'claimToken' };
    const values: Item = { ':submitting': 'submitting', ':claim': claimToken };
    const set: string[] = [];
    const moves: string[] = [];
    if (progress.checkedThrough !== undefined) {
      names['#checked'] = 'reconcileCheckedThrough';
      values[':checked'] = progress.checkedThrough;
      set.push('#checked = :checked');
      moves.push('attribute_not_exists(#checked) OR #checked < :checked');
    }
    if (progress.absentSince !== undefined) {
      names['#absent'] = 'absentSince';
      values[':absent'] = progress.absentSince;
      set.push('#absent = if_not_exists(#absent, :absent)');
      moves.push('attribute_not_exists(#absent)');
    }
    if (set.length === 0) return false;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(id),
          UpdateExpression: `SET ${set.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #status = :submitting AND #claim = :claim AND (${
            moves.length === 1 ? moves[0] : moves.map((m) => `(${m})`).join(' OR ')
          })`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async listByStatus(
    status: 'queued' | 'submitting',
    opts: { limit?: number; cursor?: string; changedBefore?: number } = {},
  ): Promise<Page<JobRecord>> {
    const out = await this.doc.send(
      new QueryCommand({
        ...this.pendingQuery(status, opts.changedBefore),
        Limit: opts.limit ?? 100,
        ExclusiveStartKey: decodeCursor(opts.cursor, STATUS_INDEX, PENDING_PARTITION),
      }),
    );
    return { items: (out.Items ?? []).map(toRecord), next: encodeCursor(out.LastEvaluatedKey) };
  }

  async countByStatus(status: 'queued' | 'submitting'): Promise<number> {
    let count = 0;
    let start: Item | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ ...this.pendingQuery(status), Select: 'COUNT', ExclusiveStartKey: start }),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return count;
  }

  /** Query of the pending partition of the status index, filtered to the status (and change time). */
  private pendingQuery(status: 'queued' | 'submitting', changedBefore?: number): QueryCommandInput {
    const names: Record<string, string> = { '#pk': STATUS_INDEX.partitionKey, '#status': 'status' };
    const values: Item = { ':pk': PENDING_PARTITION, ':status': status };
    const keyCondition = '#pk = :pk';
    let filter = '#status = :status';
    if (changedBefore !== undefined) {
      // Only a filter: the sort key is when a job entered the index (see markPending), which may be after
      // its last change. The partition holds only jobs whose message may be lost, so it stays small.
      names['#updatedAt'] = 'updatedAt';
      values[':before'] = iso(changedBefore);
      filter += ' AND #updatedAt < :before';
    }
    return {
      TableName: this.tableName,
      IndexName: STATUS_INDEX.name,
      KeyConditionExpression: keyCondition,
      FilterExpression: filter,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  async listForUser(
    userId: string,
    opts: { status?: JobStatus; limit: number; cursor?: string },
  ): Promise<Page<JobRecord>> {
    const pk = `USER#${userId}`;
    let start = decodeCursor(opts.cursor, USER_INDEX, pk);
    const items: { key: Item; job: JobRecord }[] = [];
    // The index holds keys only: read the jobs, then apply the status filter, until the page is full.
    for (let round = 0; round < 20; round++) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: USER_INDEX.name,
          KeyConditionExpression: '#pk = :pk',
          ScanIndexForward: false,
          ExpressionAttributeNames: { '#pk': USER_INDEX.partitionKey },
          ExpressionAttributeValues: { ':pk': pk },
          Limit: opts.status ? Math.max(opts.limit, 100) : opts.limit + 1,
          ExclusiveStartKey: start,
        }),
      );
      const keys = out.Items ?? [];
      const jobs = new Map(
        (
          await this.getJobs(
            keys.map((k) => String(k.pk).slice('JOB#'.length)),
            false,
          )
        ).map((j) => [j.id, j]),
      );
      for (const key of keys) {
        const job = jobs.get(String(key.pk).slice('JOB#'.length));
        if (!job || (opts.status && job.status !== opts.status)) continue;
        items.push({ key, job });
        if (items.length > opts.limit) {
          // One more than asked: there is a next page, starting after the last item we return.
          const last = items[opts.limit - 1] as { key: Item };
          return {
            items: items.slice(0, opts.limit).map((i) => i.job),
            next: encodeCursor(indexKey(last.key)),
          };
        }
      }
      start = out.LastEvaluatedKey;
      if (!start) break;
    }
    const last = items[items.length - 1];
    return {
      items: items.map((i) => i.job),
      next: start && last ? encodeCursor(indexKey(last.key)) : start ? encodeCursor(start) : undefined,
    };
  }
}

function indexKey(item: Item): Item {
  return { pk: item.pk, sk: item.sk, gsi2pk: item.gsi2pk, gsi2sk: item.gsi2sk };
}
