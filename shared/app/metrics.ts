/**
 * Counters the use-cases emit. In Lambda they become CloudWatch EMF through Powertools Metrics (no API
 * calls); elsewhere they are kept in memory (tests read them, the local runtime ignores them).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from './metric-names.js';

/** What the use-cases need: count things, flush at the end of an invocation. */
export interface RelayMetrics {
  count(name: string, value?: number): void;
  /** Publishes what was counted (one EMF blob per invocation in Lambda). */
  flush(): void;
}

/** Counts in memory; `counts` is readable by tests. */
export class MemoryMetrics implements RelayMetrics {
  readonly counts = new Map<string, number>();
  count(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
  flush(): void {}
}

/** Powertools Metrics (namespace `FichierRelay`). */
export class PowertoolsMetrics implements RelayMetrics {
  private readonly metrics: Metrics;
  private pending = false;
  constructor(serviceName: string) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  }
  count(name: string, value = 1): void {
    this.metrics.addMetric(name, MetricUnit.Count, value);
    this.pending = true;
  }
  flush(): void {
    if (!this.pending) return;
    this.pending = false;
    this.metrics.publishStoredMetrics();
  }
}
