import { describe, expect, it } from 'vitest';
import {
  classifyFichierError,
  classifyNetworkError,
  FichierApiError,
  FichierError,
  FichierPacedError,
  fichierCodeOf,
  isNetworkError,
} from '../../../shared/fichier/errors.js';

const op = 'remote/request.cgi';

function sysError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyFichierError by message text', () => {
  it.each([
    [403, 'Flood detected: IP Locked #374', 'flood', true, 374],
    [403, 'Flood detected: IP Locked #412', 'flood', true, 412],
    [403, 'Flood detected: User Locked #413', 'flood', true, 413],
    [403, 'Flood detected: User APK Locked #414', 'flood', true, 414],
    [403, 'IP Locked #100', 'flood', true, 100],
    [401, 'Not authenticated #247', 'auth', false, 247],
    [403, 'No such user #93', 'auth', false, 93],
    [403, 'Must be a customer (Premium, Access) #200', 'notPremium', false, 200],
    [404, 'Resource not found #469', 'notFound', false, 469],
    [403, 'Owner locked #620', 'rejected', false, 620],
    [403, 'Invalid password. Resource not allowed #611', 'rejected', false, 611],
    [403, 'Only 1 location allowed at a time #887', 'transient', true, 887],
  ] as const)('%i %s → %s', (httpStatus, message, kind, retryable, code) => {
    const err = classifyFichierError({ httpStatus, message, operation: op });
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(retryable);
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(httpStatus);
    expect(err.operation).toBe(op);
  });

  it('decides on text, not on the #N: a known flood number with other text is not a flood', () => {
    expect(classifyFichierError({ httpStatus: 400, message: 'Bad folder #412', operation: op }).kind).toBe(
      'rejected',
    );
  });

  it('classifies a KO answer on HTTP 200 by its text', () => {
    expect(
      classifyFichierError({ httpStatus: 200, message: 'Flood detected: IP Locked #412', operation: op })
        .kind,
    ).toBe('flood');
  });

  it('builds the message as "<operation> failed: <api message>"', () => {
    const err = classifyFichierError({
      httpStatus: 403,
      message: 'Flood detected: IP Locked #412',
      operation: op,
    });
    expect(err.message).toBe('remote/request.cgi failed: Flood detected: IP Locked #412');
    expect(err.name).toBe('FichierApiError');
    expect(err).toBeInstanceOf(FichierError);
    expect(err).toBeInstanceOf(Error);
  });

  it('gives "Only 1 location" a 5-minute retryAfterMs', () => {
    const err = classifyFichierError({
      httpStatus: 403,
      message: 'Only 1 location allowed at a time #887',
      operation: op,
    });
    expect(err.retryAfterMs).toBe(300_000);
  });
});

describe('classifyFichierError by HTTP status', () => {
  it.each([
    [401, 'auth', false],
    [404, 'notFound', false],
    [410, 'notFound', false],
    [429, 'transient', true],
    [500, 'transient', true],
    [502, 'transient', true],
    [503, 'transient', true],
    [504, 'transient', true],
    [509, 'transient', true],
    [400, 'rejected', false],
    [403, 'rejected', false],
    [200, 'rejected', false],
  ] as const)('HTTP %i without a known message → %s', (httpStatus, kind, retryable) => {
    const err = classifyFichierError({
      httpStatus,
      message: 'Something else #1',
      operation: 'folder/ls.cgi',
    });
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(retryable);
  });

  it('names the status when there is no message', () => {
    const err = classifyFichierError({ httpStatus: 503, operation: 'remote/ls.cgi' });
    expect(err.message).toBe('remote/ls.cgi failed: HTTP 503');
    expect(err.code).toBeUndefined();
  });
});

describe('Retry-After', () => {
  it('is parsed from the raw header in seconds', () => {
    const err = classifyFichierError({ httpStatus: 503, operation: op, retryAfterHeader: '7' });
    expect(err.retryAfterMs).toBe(7000);
  });

  it('is parsed from an HTTP-date against nowMs', () => {
    const nowMs = Date.parse('2026-11-27T12:00:00Z');
    const err = classifyFichierError({
      httpStatus: 429,
      operation: op,
      retryAfterHeader: 'Fri, 27 Nov 2026 12:00:03 GMT',
      nowMs,
    });
    expect(err.retryAfterMs).toBe(3000);
  });

  it('is undefined when the header is invalid', () => {
    expect(
      classifyFichierError({ httpStatus: 503, operation: op, retryAfterHeader: 'later' }).retryAfterMs,
    ).toBe(undefined);
  });
});

describe('network errors', () => {
  it.each(['ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])(
    '%s is transient and retryable for a read call',
    (code) => {
      const cause = sysError(code);
      expect(isNetworkError(cause)).toBe(true);
      const err = classifyNetworkError(cause, 'remote/ls.cgi');
      expect(err.kind).toBe('transient');
      expect(err.retryable).toBe(true);
      expect(err.maybeSubmitted).toBe(false);
      expect(err.cause).toBe(cause);
    },
  );

  it('finds the code in a wrapped cause (fetch-style TypeError)', () => {
    const err = new TypeError('fetch failed', { cause: sysError('ECONNRESET') });
    expect(isNetworkError(err)).toBe(true);
  });

  it('flags a submit that may have reached 1fichier as maybeSubmitted, not retryable', () => {
    const err = classifyNetworkError(sysError('ECONNRESET', 'socket hang up'), op, { submit: true });
    expect(err.kind).toBe('transient');
    expect(err.maybeSubmitted).toBe(true);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^remote\/request\.cgi failed: ECONNRESET/);
  });

  it('keeps a submit retryable when the connection was refused before sending', () => {
    const err = classifyNetworkError(sysError('ECONNREFUSED'), op, { submit: true });
    expect(err.maybeSubmitted).toBe(false);
    expect(err.retryable).toBe(true);
  });

  it('does not treat a plain programming error as a network error', () => {
    expect(isNetworkError(new TypeError('x is not a function'))).toBe(false);
  });
});

describe('FichierPacedError', () => {
  it('maps a flood pause to a retryable flood with retryAfterMs', () => {
    const err = new FichierPacedError(op, 'paused', 42_000);
    expect(err).toBeInstanceOf(FichierApiError);
    expect(err).toMatchObject({ kind: 'flood', retryable: true, retryAfterMs: 42_000, refusal: 'paused' });
    expect(err.name).toBe('FichierPacedError');
  });

  it('maps busy to a retryable transient error', () => {
    expect(new FichierPacedError(op, 'busy', 900)).toMatchObject({ kind: 'transient', retryable: true });
  });

  it('maps an open circuit to auth, not retryable', () => {
    expect(new FichierPacedError(op, 'circuitOpen', 0, 'Not authenticated #247')).toMatchObject({
      kind: 'auth',
      retryable: false,
    });
  });
});

describe('fichierCodeOf', () => {
  it('reads the trailing #N', () => {
    expect(fichierCodeOf('Flood detected: IP Locked #412')).toBe(412);
    expect(fichierCodeOf('no number')).toBeUndefined();
  });
});
