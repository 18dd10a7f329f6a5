import { describe, expect, it } from 'vitest';
import { runtimeOptionsFromEnv } from '../../../infra/local/runtime.js';

describe('local runtime options: the feeds schedule', () => {
  it('reads FEEDS_INTERVAL_S as the due-check interval, and leaves it unset (the runtime then uses 60 s) when absent', () => {
    expect(runtimeOptionsFromEnv({ FEEDS_INTERVAL_S: '15' }).feedsIntervalMs).toBe(15_000);
    expect(runtimeOptionsFromEnv({}).feedsIntervalMs).toBeUndefined();
  });

  it('refuses a FEEDS_INTERVAL_S that is not a positive integer, naming it', () => {
    expect(() => runtimeOptionsFromEnv({ FEEDS_INTERVAL_S: '0' })).toThrow(/FEEDS_INTERVAL_S/);
    expect(() => runtimeOptionsFromEnv({ FEEDS_INTERVAL_S: 'soon' })).toThrow(/FEEDS_INTERVAL_S/);
  });
});
