/**
 * Every environment variable the relay reads, in one place.
 * `functions/` and `shared/` read them through this constant; `infra/` (CDK) writes them
 * with the same names, in the same call that grants the matching permission.
 */
export const ENV = {
  /** Local API port (local runtime only). */
  port: 'PORT',
  /** Local bind address of the API (local runtime only); the sandbox stays on loopback whatever it says. */
  host: 'HOST',
  /** Local state directory (dynalite files, sandbox data). */
  relayDataDir: 'RELAY_DATA_DIR',
  /** Client token created at start of the local runtime; the `relay` CLI's token. */
  relayToken: 'RELAY_TOKEN',
  /** Base URL of the relay API for the `relay` CLI. */
  relayApiUrl: 'RELAY_API_URL',
  /** The real 1fichier key (local mode only; in AWS the key comes from Secrets Manager). */
  fichierApiKey: 'ONEFICHIER_API_KEY',
  /** 1fichier API base URL. */
  fichierApiUrl: 'ONEFICHIER_API_URL',
  /** Secrets Manager secret id/ARN holding the 1fichier key (AWS mode). */
  fichierSecretId: 'ONEFICHIER_SECRET_ID',
  /** Minimum spacing between two calls for one key. */
  minIntervalMs: 'FICHIER_MIN_INTERVAL_MS',
  /** First pause after a flood answer (then grows x2 up to a cap). */
  floodPauseMs: 'FICHIER_FLOOD_PAUSE_MS',
  /** Pause after a bare `IP Locked` answer. */
  ipLockPauseMs: 'FICHIER_IP_LOCK_PAUSE_MS',
  /** First wait after an unknown 1fichier answer (then grows). */
  unknownBackoffMs: 'FICHIER_UNKNOWN_BACKOFF_MS',
  /** A job fails after the same unknown answer for this many seconds. */
  unknownGiveUpS: 'FICHIER_UNKNOWN_GIVE_UP_S',
  /** Seconds after which an open auth circuit is probed with user/info.cgi. */
  circuitProbeS: 'FICHIER_CIRCUIT_PROBE_S',
  /** Most URLs in one remote/request.cgi. */
  batchMaxUrls: 'FICHIER_BATCH_MAX_URLS',
  /** Local poller schedule, seconds. */
  pollIntervalS: 'POLL_INTERVAL_S',
  /** Local feeds schedule: seconds between two due checks of the feeds reader. */
  feedsIntervalS: 'FEEDS_INTERVAL_S',
  /** Largest feed document read, bytes. */
  feedsMaxBytes: 'FEEDS_MAX_BYTES',
  /** Days a feed item's dedupe key is kept after the item leaves the feed. */
  feedsSeenDays: 'FEEDS_SEEN_DAYS',
  /** `1` lets outbound fetches reach loopback/private addresses (local testing). */
  allowPrivateUrls: 'RELAY_ALLOW_PRIVATE_URLS',
  /** DynamoDB table holding jobs, dedupe records, tokens, pacer state, reports. */
  tableName: 'RELAY_TABLE_NAME',
  /** SQS jobs queue URL. */
  queueUrl: 'RELAY_QUEUE_URL',
  /** SQS queue of delayed poll triggers (AWS): the poller runs seconds after a submission. */
  pollQueueUrl: 'RELAY_POLL_QUEUE_URL',
  /** Jobs still not terminal after this many seconds in `submitted` fail as stuck. */
  stuckAfterS: 'RELAY_STUCK_AFTER_S',
  /** Requests a minute one client token may make (API). */
  tokenRatePerMin: 'RELAY_TOKEN_RATE_PER_MIN',
  /** SQS deliveries queue URL (notifications, callbacks, REST hooks). */
  notifyQueueUrl: 'NOTIFY_QUEUE_URL',
  /** First delivery retry, ms (then capped exponential backoff with jitter). */
  notifyRetryBaseMs: 'NOTIFY_RETRY_BASE_MS',
  /** Most messages one notification target gets in any hour. */
  notifyMaxPerHour: 'NOTIFY_MAX_PER_HOUR',
  /** Secrets Manager secret holding the key that encrypts target secrets at rest (AWS). */
  notifyKeySecretId: 'NOTIFY_KEY_SECRET_ID',
  /** File (mode 0600) holding that key (local runtime). */
  notifyKeyFile: 'NOTIFY_KEY_FILE',
  /** Base URL standing in for https://maker.ifttt.com (local testing). */
  notifyIftttUrl: 'NOTIFY_IFTTT_URL',
  /** Base URL standing in for https://api.telegram.org (local testing). */
  notifyTelegramUrl: 'NOTIFY_TELEGRAM_URL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
