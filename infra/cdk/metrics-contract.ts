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
export {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  RELAY_METRICS,
  type RelayMetricName,
} from '../../shared/app/metric-names.js';

/** Dimension name Powertools uses for the service. */
export const METRICS_SERVICE_DIMENSION = 'service';
