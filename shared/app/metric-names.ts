/**
 * Custom metric names the handlers emit and the CloudWatch alarms watch (`infra/cdk/alarms.ts`).
 * CloudWatch matches namespace + name + the exact dimension set, so these are published with the
 * single dimension `service = fichier-relay` and nothing else.
 */
export const METRICS_NAMESPACE = 'FichierRelay';

/** Value of the `service` dimension (and of Powertools' `POWERTOOLS_SERVICE_NAME`). */
export const METRICS_SERVICE = 'fichier-relay';

/** Metric names the alarms watch, all unit `Count`. */
export const RELAY_METRICS = {
  /** Jobs held back because the key's auth circuit is open (no call goes to 1fichier). */
  circuitOpen: 'CircuitOpen',
  /** 1fichier answers classified as auth failures (bad or revoked key); each one opens the circuit. */
  authFailures: 'AuthFailures',
  /** Jobs the poller failed as stuck (`submitted` past `RELAY_STUCK_AFTER_S`). */
  stuckJobs: 'StuckJobs',
} as const;

export type RelayMetricName = (typeof RELAY_METRICS)[keyof typeof RELAY_METRICS];
