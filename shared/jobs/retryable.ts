/**
 * Whether retrying a failed job can help, by its error code: the hint the API adds to a failed job
 * (`retryable`) so people and scripts know whether `POST /jobs/{id}/retry` is worth it. One row per code
 * the pipeline writes, with why.
 */

/** One row: can a retry help, and why. */
export interface RetryableRule {
  retryable: boolean;
  /** Whether a retry helps: `maybe` when something outside the relay must change first. */
  helps: 'yes' | 'maybe' | 'no';
  note: string;
}

/** Error codes of failed jobs (see `retry-policy.ts`, `poll.ts`, `reconcile.ts`, `submit.ts`). */
export const RETRYABLE_RULES: Readonly<Record<string, RetryableRule>> = {
  remoteFailed: {
    retryable: true,
    helps: 'maybe',
    note: '1fichier could not fetch the source; it may work once the source answers',
  },
  stuck: { retryable: true, helps: 'yes', note: '1fichier never finished the request; a new one may' },
  unconfirmed: {
    retryable: true,
    helps: 'yes',
    note: 'the submission was never confirmed; check your 1fichier remote uploads first, it may be there',
  },
  gaveUp: {
    retryable: true,
    helps: 'yes',
    note: 'passing failures used up the attempts; a retry starts a new budget',
  },
  unknownAnswer: {
    retryable: true,
    helps: 'maybe',
    note: 'an answer no rule knows; retry once the account or URL is checked',
  },
  notPremium: {
    retryable: false,
    helps: 'no',
    note: 'the account cannot use the API until it is Premium or Access',
  },
  rejected: {
    retryable: false,
    helps: 'no',
    note: '1fichier refused this URL; the same URL will be refused again',
  },
  notFound: { retryable: false, helps: 'no', note: 'the resource does not exist at 1fichier' },
  folderRejected: {
    retryable: false,
    helps: 'no',
    note: '1fichier refused the folder; post the URL with another folder',
  },
  invalid: { retryable: false, helps: 'no', note: 'the relay refused the input itself' },
};

/** Whether a retry can help a job that failed with `code`; unknown codes say yes (nothing says no). */
export function isRetryable(code: string | undefined): boolean {
  return code === undefined ? true : (RETRYABLE_RULES[code]?.retryable ?? true);
}
