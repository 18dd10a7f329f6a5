import { describe, expect, it } from 'vitest';
import {
  answerText,
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
      'unknown',
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
    [404, 'unknown', true],
    [410, 'unknown', true],
    [429, 'flood', true],
    [500, 'transient', true],
    [502, 'transient', true],
    [503, 'transient', true],
    [504, 'transient', true],
    [509, 'transient', true],
    [400, 'unknown', true],
    [403, 'unknown', true],
    [200, 'unknown', true],
  ] as const)('HTTP %i with a JSON KO no rule knows → %s', (httpStatus, kind, retryable) => {
    const err = classifyFichierError({
      httpStatus,
      message: 'Something else #1',
      operation: 'folder/ls.cgi',
    });
    expect(err.kind).toBe(kind);
    expect(err.retryable).toBe(retryable);
  });

  it.each([
    [404, 'notFound'],
    [410, 'notFound'],
    [403, 'flood'],
    [502, 'transient'],
    [400, 'unknown'],
  ] as const)('HTTP %i with an empty body → %s', (httpStatus, kind) => {
    expect(classifyFichierError({ httpStatus, shape: 'empty', operation: 'folder/ls.cgi' }).kind).toBe(kind);
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

describe('answers that are not JSON', () => {
  const nginx502 =
    '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>';
  const classify = (httpStatus: number, body: string, submit = false) => {
    const { shape, message } = answerText(body, undefined);
    return classifyFichierError({ httpStatus, shape, message, operation: op, submit });
  };

  it('reads an nginx error page as transient, by its title', () => {
    const err = classify(502, nginx502);
    expect(err.kind).toBe('transient');
    expect(err.apiMessage).toBe('502 Bad Gateway');
  });

  it('reads a maintenance page with 503 as transient', () => {
    expect(classify(503, '<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>').kind).toBe(
      'transient',
    );
  });

  it('takes a plain-text "IP Locked" 403 as a flood with the long IP-lock pause', () => {
    const err = classify(403, 'IP Locked');
    expect(err.kind).toBe('flood');
    expect(err.ipLock).toBe(true);
  });

  it('takes any non-JSON 403 as a lock, not a refusal', () => {
    expect(classify(403, '<html><body>Forbidden</body></html>').kind).toBe('flood');
    expect(classify(403, 'Access denied').kind).toBe('flood');
  });

  it('does not read an ACL refusal into a gateway page title ("405 Not Allowed")', () => {
    expect(classify(405, '<html><head><title>405 Not Allowed</title></head></html>').kind).toBe('unknown');
  });

  it.each([
    ['Flood detected: User Locked #223', false],
    ['Flood detected: IP Locked #38', false],
    ['Flood detected: IP Locked #218', false],
    ['IP Locked #38', true],
    ['User Locked #223', false],
  ])('"%s" is a flood (bare IP lock: %s), whatever its number', (message, ipLock) => {
    const err = classifyFichierError({ httpStatus: 403, message, operation: op });
    expect(err.kind).toBe('flood');
    expect(err.ipLock).toBe(ipLock);
  });

  it('takes an unknown refusal on HTTP 200 as unknown, retryable later', () => {
    const err = classifyFichierError({
      httpStatus: 200,
      message: '#913 Premium status is only allowed to be used on residential connections',
      operation: op,
    });
    expect(err.kind).toBe('unknown');
    expect(err.retryable).toBe(true);
    expect(err.code).toBe(913);
  });

  it('marks "No such user" as an auth failure only a person can end', () => {
    const err = classifyFichierError({ httpStatus: 403, message: 'No such user #93', operation: op });
    expect(err.kind).toBe('auth');
    expect(err.manual).toBe(true);
  });
});

describe('maybe submitted: which failed remote/request.cgi answers may hide a created request', () => {
  const nginx = '<html><head><title>502 Bad Gateway</title></head></html>';
  it.each([
    ['a gateway page on 502', 502, nginx, true],
    ['an empty 503', 503, '', true],
    ['a JSON KO on 500', 500, '{"status":"KO","message":"Internal error"}', true],
    ['an unreadable 404 page', 404, '<html><body>Not found</body></html>', true],
    ['a 429 without a body', 429, '', false],
    ['a flood 403', 403, '{"status":"KO","message":"Flood detected: IP Locked #412"}', false],
    ['a plain-text IP lock', 403, 'IP Locked', false],
    ['a 401', 401, '{"status":"KO","message":"Not authenticated #247"}', false],
    ['an unknown JSON KO on 200', 200, '{"status":"KO","message":"#913 residential"}', false],
    ['a known refusal', 403, '{"status":"KO","message":"Resource not allowed #14"}', false],
  ])('%s → %s', (_name, httpStatus, body, maybe) => {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const { shape, message } = answerText(body, json);
    const err = classifyFichierError({ httpStatus, shape, message, operation: op, submit: true });
    expect(err.maybeSubmitted).toBe(maybe);
    if (maybe) expect(err.retryable).toBe(false);
  });
});
