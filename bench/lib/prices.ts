/**
 * AWS list prices used by the cost model: us-east-1, on-demand, after free tiers, as published on the
 * AWS pricing pages and last checked for this table on 2026-11-27 (the machine that runs the benchmark
 * has no network: re-check them before quoting a figure). Lambda on arm64, which the stack deploys.
 */
export const PRICES = {
  checkedOn: '2026-11-27',
  region: 'us-east-1',
  /** API Gateway HTTP API, per request (first 300 M/month): $1.00 per million. */
  apiGatewayHttpRequest: 1.0 / 1e6,
  /** Lambda requests: $0.20 per million. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda duration, arm64: $0.0000133334 per GB-second. */
  lambdaGbSecondArm: 0.0000133334,
  /** SQS standard queue: $0.40 per million requests (each 64 KiB chunk of a payload is one request). */
  sqsRequest: 0.4 / 1e6,
  /** DynamoDB on-demand write request unit: $0.625 per million (design.md uses the same figure). */
  dynamoWriteUnit: 0.625 / 1e6,
  /** DynamoDB on-demand read request unit: $0.125 per million. */
  dynamoReadUnit: 0.125 / 1e6,
  /** Secrets Manager API calls: $0.05 per 10,000. */
  secretsManagerCall: 0.05 / 1e4,
  /**
   * CloudWatch Logs ingestion, Standard log class: $0.50 per GB (Lambda's own logs: first 10 TB a month,
   * cheaper tiers after; API Gateway access logs: flat). Applied per byte with GB = 10^9 bytes, which errs
   * high if AWS bills binary gigabytes. Same list price as docs/deploy.md's table, 2026-11-27.
   */
  logsIngestByte: 0.5 / 1e9,
  /**
   * X-Ray traces recorded: $5.00 per million (first 100,000 a month free, ignored: this is the price of
   * one more URL). Traces retrieved or scanned ($0.50 per million) are paid only when someone looks.
   */
  xrayTraceRecorded: 5.0 / 1e6,
} as const;
