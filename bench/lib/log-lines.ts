/**
 * The log lines a deployment ingests that the local runtime cannot write itself, rendered in their real
 * format so their bytes can be counted: Lambda's START/END/REPORT lines around every invocation and the
 * API Gateway access-log line of every request.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ACCESS_LOG_FIELDS } from '../../infra/cdk/api.js';

/**
 * CloudWatch Logs counts 26 bytes per event on top of its message toward PutLogEvents' batch size. The
 * pricing page does not say whether ingestion bills them; the cost model adds them to every line, which
 * errs high by at most 26 bytes a line.
 */
export const EVENT_OVERHEAD_BYTES = 26;

/** One Lambda invocation as its platform lines describe it. */
export interface PlatformInvocation {
  durationMs: number;
  memoryMb: number;
  /** Whether X-Ray sampled it: the REPORT event then carries an `XRAY TraceId…` line. */
  traced: boolean;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * Lambda's platform lines for one invocation in the Text log format (the stack's: no `LogFormat` set), as
 * shown in the AWS Lambda Developer Guide, "Log and monitor Node.js Lambda functions"
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html):
 *
 *     START RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac Version: $LATEST
 *     END RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac
 *     REPORT RequestId: c793869b-…	Duration: 170.19 ms	Billed Duration: 171 ms	Memory Size: 128 MB	Max Memory Used: 74 MB
 *     XRAY TraceId: 1-5d9d007f-…	SegmentId: 3d752xmpl1bbe37e	Sampled: true
 *
 * Three events: START, END, and REPORT (with its XRAY line when traced). Cold starts add
 * `Init Duration: … ms` (≈ 26 bytes) to REPORT; not counted, they are rare under load.
 */
export function lambdaPlatformLines(inv: PlatformInvocation): string[] {
  const id = randomUUID();
  const billed = Math.max(1, Math.ceil(inv.durationMs));
  // Max Memory Used is a 2–3 digit figure for these functions (not measured here).
  const used = Math.min(inv.memoryMb, 110);
  let report =
    `REPORT RequestId: ${id}\tDuration: ${inv.durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\t` +
    `Memory Size: ${inv.memoryMb} MB\tMax Memory Used: ${used} MB\t`;
  if (inv.traced) {
    report += `\nXRAY TraceId: 1-${hex(4)}-${hex(12)}\tSegmentId: ${hex(8)}\tSampled: true`;
  }
  return [`START RequestId: ${id} Version: $LATEST`, `END RequestId: ${id}`, report];
}

/** Values of one webhook's `POST /jobs` as API Gateway would fill the access-log format. */
export interface AccessLogValues {
  latencyMs: number;
  /** Bytes of the 202 answer for one URL. */
  responseLength: number;
}

/**
 * The access-log line of one request: the stack's own format (`ACCESS_LOG_FIELDS` in infra/cdk/api.ts)
 * with each `$context` variable replaced by a value of the usual shape (`-` where API Gateway has none).
 * The user agent is an assumption: webhook senders' range from ~10 to ~120 characters.
 */
export function accessLogLine(v: AccessLogValues): string {
  const values: Record<string, string> = {
    '$context.requestId': 'KkJ7-hGqIAMEVrA=',
    '$context.requestTime': '27/Nov/2026:16:12:13 +0000',
    '$context.identity.sourceIp': '198.51.100.23',
    '$context.identity.userAgent': 'Mozilla/5.0 (compatible; webhook-sender/1.0)',
    '$context.routeKey': 'POST /jobs',
    '$context.protocol': 'HTTP/1.1',
    '$context.status': '202',
    '$context.responseLength': String(v.responseLength),
    '$context.responseLatency': String(Math.round(v.latencyMs)),
    '$context.integrationLatency': String(Math.max(1, Math.round(v.latencyMs) - 1)),
    '$context.integrationStatus': '202',
    '$context.integrationErrorMessage': '-',
    '$context.error.message': '-',
  };
  const format = JSON.stringify(ACCESS_LOG_FIELDS);
  return format.replace(/\$context\.[A-Za-z.]+/g, (variable) => values[variable] ?? '-');
}
