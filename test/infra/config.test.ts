import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, RelayConfigError, readRelayConfig } from '../../infra/cdk/config.js';
import { cdkJsonContext } from './relay-app.js';

// These apps are never synthesized; one shared outdir keeps each from making a cdk.outXXXX in /tmp.
const outdir = mkdtempSync(join(tmpdir(), 'relay-cdk-config-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));
const configFrom = (context: Record<string, unknown>) => readRelayConfig(new App({ context, outdir }).node);

describe('readRelayConfig', () => {
  it('reads cdk.json to the documented defaults', () => {
    expect(configFrom(cdkJsonContext())).toEqual(DEFAULT_CONFIG);
  });

  it('parses CLI strings (-c relay:key=value) into numbers and booleans', () => {
    const config = configFrom({
      'relay:workerMaxConcurrency': '3',
      'relay:deletionProtection': 'false',
      'relay:alarmEmail': 'ops@example.com',
    });

    expect(config.workerMaxConcurrency).toBe(3);
    expect(config.deletionProtection).toBe(false);
    expect(config.alarmEmail).toBe('ops@example.com');
  });

  it.each([
    ['relay:maxReceiveCount', 4, /relay:maxReceiveCount must be an integer in 5\.\./],
    ['relay:workerMaxConcurrency', 1, /relay:workerMaxConcurrency must be an integer in 2\.\./],
    ['relay:workerBatchSize', 'ten', /relay:workerBatchSize/],
    ['relay:logRetentionDays', 10, /relay:logRetentionDays must be one of/],
    ['relay:deletionProtection', 'yes', /relay:deletionProtection must be true or false/],
    ['relay:fichierApiUrl', 'http://api.1fichier.com/v1', /relay:fichierApiUrl must be an https URL/],
    ['relay:stage', 'Prod_1', /relay:stage must be/],
    ['relay:alarmEmail', 'not-an-address', /relay:alarmEmail must be an e-mail address/],
    ['relay:tracing', 'sampled', /relay:tracing must be one of off, active/],
    ['relay:logLevel', 'info', /relay:logLevel must be one of DEBUG, INFO, WARN, ERROR/],
  ])('rejects %s = %j, naming the key', (key, value, message) => {
    expect(() => configFrom({ [key]: value })).toThrow(RelayConfigError);
    expect(() => configFrom({ [key]: value })).toThrow(message);
  });

  it('rejects a burst below the rate', () => {
    expect(() => configFrom({ 'relay:apiThrottleRateLimit': 50, 'relay:apiThrottleBurstLimit': 10 })).toThrow(
      /relay:apiThrottleBurstLimit must be at least relay:apiThrottleRateLimit/,
    );
  });
});
