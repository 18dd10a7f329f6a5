/**
 * The custom metrics the handlers emit and the alarms watch: the contract between `functions/`
 * (Powertools Metrics, CloudWatch EMF on stdout) and `infra/cdk/alarms.ts`.
 *
 * CloudWatch matches a metric on namespace + name + the exact dimension set, so the handlers must
 * publish these with the single dimension `service = fichier-relay` (Powertools adds it from
 * `POWERTOOLS_SERVICE_NAME`, which the CDK app sets) and no other default dimensions; extra
 * dimensions would make a different metric that no alarm sees.
 *
 * @example
 * const metrics = new Metrics(); // namespace and service come from the environment the stack sets
 * metrics.addMetric(RELAY_METRICS.circuitOpen, MetricUnit.Count, 1);
 */
export const METRICS_NAMESPACE = 'FichierRelay';

/** Value of the `service` dimension (and of Powertools' `POWERTOOLS_SERVICE_NAME`). */
export const METRICS_SERVICE = 'fichier-relay';

/** Dimension name Powertools uses for the service. */
export const METRICS_SERVICE_DIMENSION = 'service';

/** Metric names, all unit `Count`. */
export const RELAY_METRICS = {
  /** +1 each time the 1fichier circuit breaker opens (auth failure, ban, repeated floods). */
  circuitOpen: 'CircuitOpen',
  /** +1 for each 1fichier answer classified as an auth failure (bad/revoked key, not premium). */
  authFailures: 'AuthFailures',
  /** Jobs the poller failed as stuck (`submitted` past `RELAY_STUCK_AFTER_S`) in one run; emitting only when > 0 is fine. */
  stuckJobs: 'StuckJobs',
} as const;

export type RelayMetricName = (typeof RELAY_METRICS)[keyof typeof RELAY_METRICS];
