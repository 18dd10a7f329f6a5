/**
 * Builds the notification services (`deps.notify`) for any composition root: the four stores on the
 * table, the encryption key (a file locally, Secrets Manager in AWS), the deliveries queue, the guarded
 * sender and the policies from the config.
 */
import { readFile } from 'node:fs/promises';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SqsDeliveryQueue } from '../aws/delivery-queue.js';
import { DynamoDeliveryStore } from '../aws/dynamo-delivery-store.js';
import { DynamoOutageStore } from '../aws/dynamo-outage-store.js';
import { DynamoSigningSecretStore } from '../aws/dynamo-signing-secret-store.js';
import { DynamoSubscriptionStore } from '../aws/dynamo-subscription-store.js';
import { DynamoTargetStore } from '../aws/dynamo-target-store.js';
import { createSqsClient } from '../aws/queue.js';
import { ENV } from '../config/env-names.js';
import type { Clock } from '../fichier/clock.js';
import { aesGcmCipher, parseCipherKey, type SecretCipher, SecretCipherError } from '../notify/cipher.js';
import { cachedJobEventLookup, type DeliveryQueue, type NotifyServices } from '../notify/deliver.js';
import { DEFAULT_DELIVERY_POLICY } from '../notify/delivery-policy.js';
import { DEFAULT_NOISE_POLICY } from '../notify/noise.js';
import type { DeliverySender } from '../notify/send.js';
import type { RelayConfig } from './config.js';

/** The cipher key from the config: a Secrets Manager secret (AWS) or a file (local). */
export function createCipher(config: RelayConfig): SecretCipher {
  const { keySecretId, keyFile } = config.notify;
  if (keySecretId) {
    const provider = new SecretsProvider();
    return aesGcmCipher(async () =>
      parseCipherKey(String(await provider.get(keySecretId, { maxAge: 3600 }))),
    );
  }
  if (keyFile) return aesGcmCipher(async () => parseCipherKey(await readFile(keyFile, 'utf8')));
  return aesGcmCipher(async () => {
    throw new SecretCipherError(
      `no notification key: set ${ENV.notifyKeySecretId} (AWS) or ${ENV.notifyKeyFile}`,
    );
  });
}

/** A queue that refuses to send, for processes with no deliveries queue configured. */
const noQueue: DeliveryQueue = {
  async send() {
    throw new Error(`no deliveries queue: set ${ENV.notifyQueueUrl}`);
  },
};

/**
 * Builds `deps.notify`; `overrides` replace single parts (tests pass a sender with a test resolver).
 * @example const notify = createNotifyServices(config, doc(), clock);
 */
export function createNotifyServices(
  config: RelayConfig,
  doc: DynamoDBDocumentClient,
  clock: Pick<Clock, 'now'>,
  overrides: Partial<NotifyServices> & { sqs?: SQSClient; cipher?: SecretCipher } = {},
): NotifyServices {
  // The sender is given by the roots that send (deliveries, local runtime): the API never sends, so it
  // bundles neither it nor undici.
  const send: DeliverySender =
    overrides.send ??
    (async () => {
      throw new Error('this process does not send deliveries');
    });
  const cipher = overrides.cipher ?? createCipher(config);
  const targets = overrides.targets ?? new DynamoTargetStore(doc, config.tableName, cipher);
  const subscriptions = overrides.subscriptions ?? new DynamoSubscriptionStore(doc, config.tableName, cipher);
  const queueUrl = config.notify.queueUrl;
  const lookup = cachedJobEventLookup(async (userId) => {
    const [t, s] = await Promise.all([targets.listTargets(userId), subscriptions.listSubscriptions(userId)]);
    return { targets: t, subscriptions: s.length };
  }, clock);
  return {
    targets,
    subscriptions,
    deliveries: overrides.deliveries ?? new DynamoDeliveryStore(doc, config.tableName),
    secrets: overrides.secrets ?? new DynamoSigningSecretStore(doc, config.tableName, cipher),
    outages: overrides.outages ?? new DynamoOutageStore(doc, config.tableName),
    queue:
      overrides.queue ??
      (queueUrl ? new SqsDeliveryQueue(overrides.sqs ?? createSqsClient(), queueUrl) : noQueue),
    send,
    delivery: overrides.delivery ?? { ...DEFAULT_DELIVERY_POLICY, retryBaseMs: config.notify.retryBaseMs },
    noise: overrides.noise ?? { ...DEFAULT_NOISE_POLICY, maxPerHour: config.notify.maxPerHour },
    serviceUrls: overrides.serviceUrls ?? {
      ...(config.notify.iftttUrl ? { ifttt: config.notify.iftttUrl } : {}),
      ...(config.notify.telegramUrl ? { telegram: config.notify.telegramUrl } : {}),
    },
    ...(overrides.statusUrl ? { statusUrl: overrides.statusUrl } : {}),
    wantsJobEvents: overrides.wantsJobEvents ?? lookup.wantsJobEvents,
    forget: overrides.forget ?? lookup.forget,
  };
}
