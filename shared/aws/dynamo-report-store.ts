/**
 * {@link ReportStore} on the single table: one item per stored report, `pk = REPORTS#relay` or
 * `REPORTS#user#<userId>`, `sk = AT#<period end>`, expiring with the jobs' TTL. The latest is the first
 * item of a backwards query, so storing a report is one write and nothing is overwritten. A report's
 * summary is derived when it is read.
 */
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_REPORTS_LISTED, type Report, type ReportStore } from '../reports/store.js';
import { summarizeReport } from '../reports/summary.js';
import { TTL_ATTRIBUTE } from './table.js';

const partition = (userId?: string) => (userId === undefined ? 'REPORTS#relay' : `REPORTS#user#${userId}`);

/** Options of {@link DynamoReportStore}. */
export interface DynamoReportStoreOptions {
  /** Reports expire after this many days. @default 30 */
  ttlDays?: number;
}

/** The reports store on DynamoDB. */
export class DynamoReportStore implements ReportStore {
  private readonly ttlS: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    opts: DynamoReportStoreOptions = {},
  ) {
    this.ttlS = (opts.ttlDays ?? 30) * 86_400;
  }

  async putReport(report: Report, userId?: string): Promise<void> {
    const to = Date.parse(report.period.to);
    // The summary is derived from the report: computed on read, not stored twice in the item.
    const { summary: _derived, ...stored } = report;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: partition(userId),
          sk: `AT#${report.period.to}`,
          report: stored,
          [TTL_ATTRIBUTE]: Math.floor((Number.isFinite(to) ? to : Date.now()) / 1000) + this.ttlS,
        },
      }),
    );
  }

  async latestReport(userId?: string): Promise<Report | undefined> {
    return (await this.listReports(userId, 1))[0];
  }

  async listReports(userId: string | undefined, limit: number): Promise<Report[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :at)',
        ExpressionAttributeValues: { ':pk': partition(userId), ':at': 'AT#' },
        ScanIndexForward: false,
        Limit: Math.max(1, Math.min(MAX_REPORTS_LISTED, Math.floor(limit))),
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((item) => {
      const report = item.report as Report;
      return { ...report, summary: summarizeReport(report, { now: Date.parse(report.period.to) }) };
    });
  }
}
