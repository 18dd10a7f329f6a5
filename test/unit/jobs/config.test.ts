import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../shared/app/config.js';
import { ENV } from '../../../shared/config/env-names.js';

const base = { [ENV.tableName]: 'relay', [ENV.queueUrl]: 'http://127.0.0.1:1/000000000000/jobs' };

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      tableName: 'relay',
      fichierApiUrl: 'https://api.1fichier.com/v1',
      batchMaxUrls: 10,
      stuckAfterS: 21_600,
      submittingLeaseS: 120,
      maxPacerWaitMs: 1000,
      tokenRatePerMin: 120,
    });
    expect(c.pacing).toMatchObject({ minIntervalMs: 1000, floodPauseMs: 60_000 });
    expect(c.fichierSecretId).toBeUndefined();
    expect(c.fichierApiKey).toBeUndefined();
  });

  it('reads every variable it owns', () => {
    const c = loadConfig({
      ...base,
      [ENV.fichierApiUrl]: 'http://127.0.0.1:3001/v1/',
      [ENV.fichierSecretId]: 'relay/key',
      [ENV.batchMaxUrls]: '5',
      [ENV.stuckAfterS]: '3600',
      [ENV.minIntervalMs]: '400',
      [ENV.floodPauseMs]: '30000',
      [ENV.tokenRatePerMin]: '30',
    });
    expect(c).toMatchObject({
      fichierApiUrl: 'http://127.0.0.1:3001/v1',
      fichierSecretId: 'relay/key',
      batchMaxUrls: 5,
      stuckAfterS: 3600,
      tokenRatePerMin: 30,
    });
    expect(c.pacing).toMatchObject({ minIntervalMs: 400, floodPauseMs: 30_000 });
  });

  it('fails fast with an error naming the variable', () => {
    expect(() => loadConfig({})).toThrow(new ConfigError(`${ENV.tableName} is required but not set`));
    expect(() => loadConfig({ [ENV.tableName]: 't' })).toThrow(ENV.queueUrl);
    expect(() => loadConfig({ ...base, [ENV.batchMaxUrls]: '0' })).toThrow(ENV.batchMaxUrls);
    expect(() => loadConfig({ ...base, [ENV.batchMaxUrls]: 'ten' })).toThrow(ENV.batchMaxUrls);
    expect(() => loadConfig({ ...base, [ENV.fichierApiUrl]: 'ftp://x' })).toThrow(ENV.fichierApiUrl);
    expect(() => loadConfig({ ...base, [ENV.minIntervalMs]: '-1' })).toThrow(ENV.minIntervalMs);
    expect(() => loadConfig({ ...base, [ENV.stuckAfterS]: '5' })).toThrow(ENV.stuckAfterS);
    expect(() => loadConfig({ ...base, [ENV.tokenRatePerMin]: '0' })).toThrow(ENV.tokenRatePerMin);
  });
});
