import type { Job } from '../../../shared/jobs/model.js';
import { parseTargetConfig, type Target, type TargetType } from '../../../shared/notify/targets.js';

export const T0 = Date.parse('2026-03-01T10:00:00.000Z');

/** A finished job; override any field. */
export function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job_01',
    url: 'https://files.example.com/pub/holiday%20video.mkv',
    status: 'done',
    folder: '',
    source: 'api',
    createdAt: '2026-03-01T09:00:00.000Z',
    updatedAt: '2026-03-01T10:00:00.000Z',
    attempts: 1,
    remoteId: 4242,
    fileUrl: 'https://1fichier.com/?k3lm9xq2rt',
    ...overrides,
  };
}

/** A failed job number `n` with the given reason code. */
export function failedJob(n: number, code = 'notFound', at = T0): Job {
  return job({
    id: `job_${String(n).padStart(2, '0')}`,
    url: `https://files.example.com/pub/file-${n}.zip`,
    status: 'failed',
    updatedAt: new Date(at).toISOString(),
    fileUrl: undefined,
    error: { code, message: code === 'notFound' ? 'Resource not found #222' : 'Not allowed' },
    attempts: 2,
  });
}

// Credentials shaped like the real ones; none of them is real.
export const SECRETS = {
  discordToken: 'Xy9_aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3wX4yZ5-aB6cD7eF8gH9iJ0kL1mN2oP3qR',
  slackSecret: 'q8WzX2vB7nM4kL1pO9iU6yT3',
  telegramSecret: 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw',
  ntfyTopic: 'relay-uploads-x7k2p9',
  ntfyToken: 'tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2',
  iftttKey: 'bXyZ12abCDefGH34ijKLmn',
  zapierHook: 'b7x3k9q',
  webhookToken: 'hk_5f2c8a1e9b7d4f6a3c0e',
} as const;

const CONFIGS: Record<TargetType, unknown> = {
  webhook: { type: 'webhook', url: `https://hooks.example.net/relay?token=${SECRETS.webhookToken}` },
  discord: {
    type: 'discord',
    url: `https://discord.com/api/webhooks/1234567890123456789/${SECRETS.discordToken}`,
  },
  slack: {
    type: 'slack',
    url: `https://hooks.slack.com/services/T0123ABCD/B0456EFGH/${SECRETS.slackSecret}`,
  },
  telegram: { type: 'telegram', botToken: `123456789:${SECRETS.telegramSecret}`, chatId: -1001234567890 },
  ntfy: { type: 'ntfy', topic: SECRETS.ntfyTopic, token: SECRETS.ntfyToken },
  ifttt: { type: 'ifttt', event: 'upload', key: SECRETS.iftttKey },
  zapier: { type: 'zapier', url: `https://hooks.zapier.com/hooks/catch/123456/${SECRETS.zapierHook}/` },
};

/** A stored target of each type, built through the config schema (defaults applied). */
export function target<T extends TargetType>(type: T, id = `tgt_${type}`): Extract<Target, { type: T }> {
  return { ...parseTargetConfig(CONFIGS[type]), id } as Extract<Target, { type: T }>;
}

/** Seeded PRNG (mulberry32) so jittered delays are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
