/**
 * Notification errors: one base class and one subclass per thing that can go wrong before a delivery is
 * sent (bad target config, bad signing secret, a message a target cannot carry) or when an inbound signed
 * request fails verification.
 */
import type { $ZodError } from 'zod/v4/core';

/** Base of every error raised by `shared/notify`. */
export class NotifyError extends Error {
  override name = 'NotifyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One problem with a target config, in words its author can act on. */
export interface TargetConfigIssue {
  /** Dotted path of the field, e.g. `botToken` or `events.1`; `''` for the whole object. */
  path: string;
  message: string;
}

/** A notification target config that does not validate (`POST /notifications` answers 400 with it). */
export class InvalidTargetConfigError extends NotifyError {
  override name = 'InvalidTargetConfigError';
  readonly issues: readonly TargetConfigIssue[];

  constructor(issues: readonly TargetConfigIssue[], options?: { cause?: $ZodError }) {
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`invalid notification target: ${detail}`, options);
    this.issues = issues;
  }
}

/** A signing secret that is not `whsec_` + base64 of 24 to 64 bytes. */
export class InvalidSigningSecretError extends NotifyError {
  override name = 'InvalidSigningSecretError';
}

/** A `webhook-id` that Standard Webhooks cannot sign: empty, or holding `.` or whitespace. */
export class InvalidMessageIdError extends NotifyError {
  override name = 'InvalidMessageIdError';
}

/** Why an inbound signed request was refused. */
export type VerifyFailureReason =
  /** `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent or empty. */
  | 'missingHeader'
  /** `webhook-timestamp` is not an integer number of seconds. */
  | 'invalidTimestamp'
  /** `webhook-timestamp` is older than the tolerance: a replay or a very late retry. */
  | 'staleTimestamp'
  /** `webhook-timestamp` is further in the future than the tolerance: a skewed or forged clock. */
  | 'futureTimestamp'
  /** No `v1` signature in the header matches the body: tampered body, wrong secret or re-serialised JSON. */
  | 'signatureMismatch';

/** An inbound request signed per Standard Webhooks that did not verify. `reason` says which check failed. */
export class SignatureVerificationError extends NotifyError {
  override name = 'SignatureVerificationError';
  readonly reason: VerifyFailureReason;

  constructor(reason: VerifyFailureReason, message: string, options?: { cause?: unknown }) {
    super(`signature verification failed (${reason}): ${message}`, options);
    this.reason = reason;
  }
}

/** A message the target type cannot carry (e.g. a coalesced failure summary for a machine target). */
export class UnsupportedMessageError extends NotifyError {
  override name = 'UnsupportedMessageError';
}
