/**
 * The CLI's exit codes and its one error type: every failure carries the code to exit with and a hint
 * that says what to do.
 */

/** Exit codes (documented in `relay --help` and the README). */
export const EXIT = {
  ok: 0,
  /** A job failed (or the command could not do what was asked). */
  failed: 1,
  /** Bad arguments, or input the API refused. */
  usage: 2,
  /** The token is missing, wrong, revoked, or lacks the scope. */
  auth: 3,
  /** The relay (or 1fichier, for `key check`) could not be reached. */
  unreachable: 4,
  /** Rate limited (the relay's per-token limit, or 1fichier's). */
  rateLimited: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports as `relay: <message>` plus `hint`, exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** The API's HTTP status, when the API refused. */
  httpStatus?: number;
  /** A 429's `Retry-After`, in ms. */
  retryAfterMs?: number;
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** What to do about it. */
    readonly hint?: string,
    /** The API's error code, when the API refused. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A usage error (exit 2) with a pointer to the command's help. */
export function usageError(message: string, command?: string): CliError {
  return new CliError(message, EXIT.usage, `see \`relay ${command ? `${command} ` : ''}--help\``);
}
