import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadNotifyConfig } from '../../../shared/app/config.js';

const base = { RELAY_TABLE_NAME: 't', RELAY_QUEUE_URL: 'http://127.0.0.1:1/q' };

describe('loadNotifyConfig', () => {
  it('defaults to a 10 s first retry and 30 messages per target and hour, no queue', () => {
    expect(loadNotifyConfig({})).toEqual({
      queueUrl: undefined,
      retryBaseMs: 10_000,
      maxPerHour: 30,
      keySecretId: undefined,
      keyFile: undefined,
      iftttUrl: undefined,
      telegramUrl: undefined,
    });
  });

  it('reads NOTIFY_RETRY_BASE_MS, NOTIFY_MAX_PER_HOUR and the queue, and names a bad variable', () => {
    const c = loadNotifyConfig({
      NOTIFY_RETRY_BASE_MS: '250',
      NOTIFY_MAX_PER_HOUR: '5',
      NOTIFY_QUEUE_URL: 'http://127.0.0.1:1/d/',
    });
    expect(c).toMatchObject({ retryBaseMs: 250, maxPerHour: 5, queueUrl: 'http://127.0.0.1:1/d' });
    expect(() => loadNotifyConfig({ NOTIFY_MAX_PER_HOUR: 'lots' })).toThrow(/NOTIFY_MAX_PER_HOUR/);
    expect(() => loadNotifyConfig({ NOTIFY_MAX_PER_HOUR: '0' })).toThrow(ConfigError);
  });
});

describe('loadConfig for the deliveries function', () => {
  it('needs no jobs queue when told so, and still does by default', () => {
    expect(loadConfig({ RELAY_TABLE_NAME: 't' }, { jobsQueue: false }).queueUrl).toBe('');
    expect(() => loadConfig({ RELAY_TABLE_NAME: 't' })).toThrow(/RELAY_QUEUE_URL/);
    expect(loadConfig(base).notify.maxPerHour).toBe(30);
  });
});
