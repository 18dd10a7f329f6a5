/**
 * The bad-input table: hand-written malformed requests to the relay API. Every one must get a 4xx with
 * a JSON error body, change no job or token, and leave the server up. `{token}` in a path or header is
 * replaced by the valid client token, `{bad}` by a wrong one.
 */

import { TOKEN_CASES } from './token-cases.js';

/** One malformed request. */
export interface BadCase {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The exact status expected. */
  status: number;
  /** The `error.code` expected, when it is part of the contract. */
  code?: string;
  /** A known, reported bug makes this case fail today: it runs as `it.fails` with this reason. */
  bug?: string;
  /**
   * Standard Webhooks headers the runner computes for the signed token (`{signed}`) at send time: over
   * `body` (default: the case's body), `ageS` seconds ago, with `secret: 'wrong'` another secret; then
   * `omit`s headers, or replaces the timestamp (`'now'`, `'ms'`, or a literal) or the signature.
   */
  sign?: {
    id: string;
    ageS?: number;
    body?: string;
    secret?: 'wrong';
    omit?: ('webhook-id' | 'webhook-timestamp' | 'webhook-signature')[];
    timestamp?: string;
    signature?: string;
    scheme?: 'v1a';
  };
  /** Send this many bytes as a chunked body (no Content-Length) instead of `body`. */
  chunkedBytes?: number;
}

import { NOTIFY_BAD_CASES } from './notify-cases.js';

const json = { 'content-type': 'application/json' };
const authed = { authorization: 'Bearer {token}', ...json };
const post = (
  name: string,
  body: string,
  status: number,
  code?: string,
  headers: Record<string, string> = authed,
): BadCase => ({
  name,
  method: 'POST',
  path: '/jobs',
  headers,
  body,
  status,
  ...(code ? { code } : {}),
});
const basic = (credentials: string | Buffer) =>
  `Basic ${Buffer.from(credentials as string).toString('base64')}`;
const url = (name: string, u: string, code = 'invalidUrl'): BadCase =>
  post(name, JSON.stringify({ url: u }), 400, code);

/** ~10,000 URLs in one JSON body (about 400 KB: over the body limit before the URL count is even read). */
const tenThousand = JSON.stringify({
  urls: Array.from({ length: 10_000 }, (_, i) => `https://files.example.com/${i}.bin`),
});
/** 501 short URLs: under the body limit, over the URL limit. */
const fiveHundredOne = JSON.stringify({ urls: Array.from({ length: 501 }, (_, i) => `https://e.co/${i}`) });

/** The malformed requests, grouped: authentication, bodies, URLs, folders and headers, routes and ids. */
export const BAD_CASES: BadCase[] = [
  // Authentication
  post('no credentials', '{"url":"https://e.co/a"}', 401, 'unauthorized', json),
  post('wrong bearer token', '{"url":"https://e.co/a"}', 401, 'unauthorized', {
    authorization: 'Bearer {bad}',
    ...json,
  }),
  post('Basic auth with a wrong token as the password', '{"url":"https://e.co/a"}', 401, 'unauthorized', {
    authorization: 'Basic dXNlcjpwYXNz',
    ...json,
  }),
  ...(
    [
      ['Basic auth with empty credentials', basic(':')],
      ['Basic auth without a colon', basic('just-a-token-without-colon')],
      ['Basic auth that is not base64', 'Basic not*base64!'],
      ['Basic auth with bad base64 padding', 'Basic YWJj='],
      ['Basic auth that is not UTF-8', basic(Buffer.from([0x75, 0x3a, 0xff, 0xfe, 0xfd]))],
      ['Basic with nothing after it', 'Basic'],
      ['an unknown auth scheme', 'Digest username="x"'],
    ] as const
  ).map(([name, authorization]) =>
    post(name, '{"url":"https://e.co/a"}', 401, 'unauthorized', { authorization, ...json }),
  ),
  post('Bearer without a token', '{"url":"https://e.co/a"}', 401, 'unauthorized', {
    authorization: 'Bearer ',
    ...json,
  }),
  post('wrong X-Api-Key', '{"url":"https://e.co/a"}', 401, 'unauthorized', { 'x-api-key': '{bad}', ...json }),
  post('wrong Authorization wins over a right X-Api-Key', '{"url":"https://e.co/a"}', 401, 'unauthorized', {
    authorization: 'Bearer {bad}',
    'x-api-key': '{token}',
    ...json,
  }),
  post('two bearer tokens in one header', '{"url":"https://e.co/a"}', 401, 'unauthorized', {
    authorization: 'Bearer {token}, Bearer {bad}',
    ...json,
  }),
  post('token of 5,000 characters', '{"url":"https://e.co/a"}', 401, 'unauthorized', {
    authorization: `Bearer ${'t'.repeat(5000)}`,
    ...json,
  }),
  post('token with the right prefix and a suffix', '{"url":"https://e.co/a"}', 401, 'unauthorized', {
    authorization: 'Bearer {token}x',
    ...json,
  }),
  { name: 'GET /jobs without credentials', method: 'GET', path: '/jobs', status: 401, code: 'unauthorized' },
  {
    name: 'GET /jobs/{id} without credentials',
    method: 'GET',
    path: '/jobs/abc',
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'GET /reports/latest with a wrong token',
    method: 'GET',
    path: '/reports/latest',
    headers: { authorization: 'Bearer {bad}' },
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'hook with a wrong token',
    method: 'POST',
    path: '/hooks/{bad}',
    headers: json,
    body: '{"url":"https://e.co/a"}',
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'hook with a token-like path traversal',
    method: 'POST',
    path: '/hooks/..%2F{token}',
    headers: json,
    body: '{"url":"https://e.co/a"}',
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'hook with the token upper-cased',
    method: 'POST',
    path: '/hooks/{TOKEN}',
    headers: json,
    body: '{"url":"https://e.co/a"}',
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'hook without a token',
    method: 'POST',
    path: '/hooks/',
    headers: json,
    body: '{"url":"https://e.co/a"}',
    status: 404,
    code: 'notFound',
  },
  {
    name: 'hook token of 5,000 characters',
    method: 'POST',
    path: `/hooks/${'h'.repeat(5000)}`,
    headers: json,
    body: '{"url":"https://e.co/a"}',
    status: 401,
    code: 'unauthorized',
  },

  // Bodies
  post('JSON cut in the middle', '{"url":"https://e.co/a"', 400, 'invalidJson'),
  post('JSON null', 'null', 400, 'invalidBody'),
  post('JSON number', '42', 400, 'invalidBody'),
  post('JSON string', '"https://e.co/a"', 400, 'invalidBody'),
  post('empty JSON array', '[]', 400, 'invalidBody'),
  post('empty JSON object', '{}', 400, 'invalidBody'),
  post('url is a number', '{"url":5}', 400, 'invalidBody'),
  post('urls is a string', '{"urls":"https://e.co/a"}', 400, 'invalidBody'),
  post('urls is empty', '{"urls":[]}', 400, 'noUrl'),
  post('urls holds null', '{"urls":[null]}', 400, 'invalidBody'),
  post('empty body with a JSON content type', '', 400, 'invalidJson'),
  post('empty body without a content type', '', 400, 'noUrl', { authorization: 'Bearer {token}' }),
  post('10,000-deep nested arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, 400),
  post('folder is a number', '{"url":"https://e.co/a","folder":5}', 400, 'invalidBody'),
  post('10,000 URLs in one request', tenThousand, 413, 'bodyTooLarge'),
  post('501 URLs in one request', fiveHundredOne, 413, 'tooManyUrls'),
  post(
    'body of 300 KB',
    JSON.stringify({ url: 'https://e.co/a', pad: 'x'.repeat(300 * 1024) }),
    413,
    'bodyTooLarge',
  ),
  post('XML content type', '<url>https://e.co/a</url>', 415, 'unsupportedMediaType', {
    authorization: 'Bearer {token}',
    'content-type': 'application/xml',
  }),
  post('multipart content type', '--x\r\n\r\nhttps://e.co/a\r\n--x--', 415, 'unsupportedMediaType', {
    authorization: 'Bearer {token}',
    'content-type': 'multipart/form-data; boundary=x',
  }),
  post('text/plain with a javascript: URL', 'javascript:alert(1)', 400, 'invalidUrl', {
    authorization: 'Bearer {token}',
    'content-type': 'text/plain',
  }),
  post('form with a file: URL', 'url=file%3A%2F%2F%2Fetc%2Fpasswd', 400, 'invalidUrl', {
    authorization: 'Bearer {token}',
    'content-type': 'application/x-www-form-urlencoded',
  }),
  post('form without a url field', 'folder=a', 400, 'noUrl', {
    authorization: 'Bearer {token}',
    'content-type': 'application/x-www-form-urlencoded',
  }),
  post(
    'one good and one bad URL: nothing is written',
    JSON.stringify({ urls: ['https://e.co/good-one', 'ftp://e.co/bad'] }),
    400,
    'invalidUrl',
  ),

  // URLs
  url('empty URL', ''),
  url('ftp scheme', 'ftp://e.co/a.iso'),
  url('javascript: scheme', 'javascript:alert(1)'),
  url('file: scheme', 'file:///etc/passwd'),
  url('data: scheme', 'data:text/plain,hello'),
  url('ws: scheme', 'ws://e.co/socket'),
  url('credentials in the URL', 'https://user:secret@e.co/a.iso'),
  url('user name only in the URL', 'https://user@e.co/a.iso'),
  url('scheme without host', 'http://'),
  url('relative path', '/etc/passwd'),
  url('space in the host', 'http://exa mple.com/a'),
  url('control character in the host', 'http://exa\u0001mple.com/a'),
  url('newline inside the URL', 'https://e.co/a\nhttps://e.co/b'),
  url('CR/LF and a header after the URL', 'https://e.co/a\r\nX-Injected: 1'),
  url('unterminated IPv6 host', 'http://[::1/a'),
  url('URL of 3,000 characters', `https://e.co/${'a'.repeat(3000)}`),
  url('forbidden host code point', 'http://e<x>.com/a'),
  post(
    'callbackUrl with a javascript: scheme',
    JSON.stringify({ url: 'https://e.co/a', callbackUrl: 'javascript:alert(1)' }),
    400,
    'invalidCallbackUrl',
  ),
  post(
    'callbackUrl with credentials',
    JSON.stringify({ url: 'https://e.co/a', callbackUrl: 'https://u:p@hooks.example.com/' }),
    400,
    'invalidCallbackUrl',
  ),

  ...[
    'http://127.0.0.1/cb',
    'http://2130706433/cb',
    'http://0x7f.1/cb',
    'http://0177.0.0.1/cb',
    'http://127.1/cb',
    'http://[::ffff:127.0.0.1]/cb',
    'http://[::1]/cb',
    'http://localhost./cb',
    'http://hooks.localhost/cb',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/cb',
    'http://192.168.0.10/cb',
    'http://100.64.0.1/cb',
    'http://[fd00::1]/cb',
    'http://0.0.0.0/cb',
  ].map((callbackUrl) =>
    post(
      `callbackUrl on a private host: ${callbackUrl}`,
      JSON.stringify({ url: 'https://e.co/a', callbackUrl }),
      400,
      'invalidCallbackUrl',
    ),
  ),

  // Folders and headers
  post(
    'folder 11 levels deep',
    JSON.stringify({
      url: 'https://e.co/a',
      folder: Array.from({ length: 11 }, (_, i) => `d${i}`).join('/'),
    }),
    400,
    'invalidFolder',
  ),
  post(
    '21 distinct folders in one request',
    JSON.stringify(Array.from({ length: 21 }, (_, i) => ({ url: `https://e.co/${i}`, folder: `W${i}` }))),
    400,
    'tooManyFolders',
  ),
  post(
    'folder with CR/LF header injection',
    JSON.stringify({ url: 'https://e.co/a', folder: 'Films\r\nX-Injected: 1' }),
    400,
    'invalidFolder',
  ),
  post(
    'folder with a NUL byte',
    JSON.stringify({ url: 'https://e.co/a', folder: 'a\u0000b' }),
    400,
    'invalidFolder',
  ),
  post(
    'folder climbing with ..',
    JSON.stringify({ url: 'https://e.co/a', folder: '../../etc' }),
    400,
    'invalidFolder',
  ),
  post(
    'folder of 2,000 characters',
    JSON.stringify({ url: 'https://e.co/a', folder: 'f'.repeat(2000) }),
    400,
    'invalidFolder',
  ),
  post(
    'folder segment of 300 characters',
    JSON.stringify({ url: 'https://e.co/a', folder: `a/${'s'.repeat(300)}` }),
    400,
    'invalidFolder',
  ),
  post('Idempotency-Key of 300 characters', '{"url":"https://e.co/a"}', 400, 'invalidIdempotencyKey', {
    ...authed,
    'idempotency-key': 'k'.repeat(300),
  }),
  post('Idempotency-Key with a space', '{"url":"https://e.co/a"}', 400, 'invalidIdempotencyKey', {
    ...authed,
    'idempotency-key': 'a b',
  }),

  // Routes, methods, ids
  { name: 'unknown route', method: 'GET', path: '/nope', status: 404, code: 'notFound' },
  {
    name: 'unknown nested route',
    method: 'POST',
    path: '/jobs/abc/cancel',
    headers: authed,
    body: '{}',
    status: 404,
    code: 'notFound',
  },
  {
    name: 'DELETE /jobs',
    method: 'DELETE',
    path: '/jobs',
    headers: authed,
    status: 405,
    code: 'methodNotAllowed',
  },
  {
    name: 'PUT /jobs/{id}',
    method: 'PUT',
    path: '/jobs/abc',
    headers: authed,
    body: '{}',
    status: 405,
    code: 'methodNotAllowed',
  },
  { name: 'PATCH /health', method: 'PATCH', path: '/health', status: 405, code: 'methodNotAllowed' },
  {
    name: 'POST /openapi.json (the document is read-only)',
    method: 'POST',
    path: '/openapi.json',
    headers: json,
    body: '{"openapi":"3.1.0"}',
    status: 405,
    code: 'methodNotAllowed',
  },
  {
    name: 'DELETE /openapi.json',
    method: 'DELETE',
    path: '/openapi.json',
    status: 405,
    code: 'methodNotAllowed',
  },
  {
    name: 'GET /jobs?format=yaml (only the documented format)',
    method: 'GET',
    path: '/jobs?format=yaml',
    headers: authed,
    status: 400,
    code: 'invalidFormat',
  },
  {
    name: 'POST /health',
    method: 'POST',
    path: '/health',
    body: '{}',
    status: 405,
    code: 'methodNotAllowed',
  },
  {
    name: 'GET /hooks/{token}',
    method: 'GET',
    path: '/hooks/{token}',
    status: 405,
    code: 'methodNotAllowed',
  },
  { name: 'OPTIONS /jobs', method: 'OPTIONS', path: '/jobs', status: 405, code: 'methodNotAllowed' },
  {
    name: 'unknown job id',
    method: 'GET',
    path: '/jobs/0123456789abcdef',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'path traversal in the job id',
    method: 'GET',
    path: '/jobs/..%2F..%2Fetc%2Fpasswd',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'encoded NUL in the job id',
    method: 'GET',
    path: '/jobs/%00',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'job id of 65 characters',
    method: 'GET',
    path: `/jobs/${'a'.repeat(65)}`,
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'job id of another key kind',
    method: 'GET',
    path: '/jobs/TOKEN%23abc',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'unknown status filter',
    method: 'GET',
    path: '/jobs?status=bogus',
    headers: authed,
    status: 400,
    code: 'invalidStatus',
  },
  {
    name: 'limit 0',
    method: 'GET',
    path: '/jobs?limit=0',
    headers: authed,
    status: 400,
    code: 'invalidLimit',
  },
  {
    name: 'limit not a number',
    method: 'GET',
    path: '/jobs?limit=ten',
    headers: authed,
    status: 400,
    code: 'invalidLimit',
  },
  {
    name: 'limit over the maximum',
    method: 'GET',
    path: '/jobs?limit=101',
    headers: authed,
    status: 400,
    code: 'invalidLimit',
  },
  {
    name: 'forged cursor',
    method: 'GET',
    path: '/jobs?cursor=eyJwayI6IkpPQiN4In0',
    headers: authed,
    status: 400,
    code: 'invalidCursor',
  },
  {
    name: 'cursor naming only the user partition',
    method: 'GET',
    path: `/jobs?cursor=${Buffer.from('{"gsi2pk":"USER#local"}').toString('base64url')}`,
    headers: authed,
    status: 400,
    code: 'invalidCursor',
  },
  {
    name: 'cursor with an extra attribute',
    method: 'GET',
    path: `/jobs?cursor=${Buffer.from('{"gsi2pk":"USER#local","gsi2sk":"x","pk":"JOB#zz","sk":"JOB","extra":"1"}').toString('base64url')}`,
    headers: authed,
    status: 400,
    code: 'invalidCursor',
  },
  {
    name: 'cursor of 3,000 characters',
    method: 'GET',
    path: `/jobs?cursor=${'c'.repeat(3000)}`,
    headers: authed,
    status: 400,
    code: 'invalidCursor',
  },
  {
    name: 'list format that does not exist',
    method: 'GET',
    path: '/jobs?format=csv',
    headers: authed,
    status: 400,
    code: 'invalidFormat',
  },
  {
    name: 'retry of an unknown job',
    method: 'POST',
    path: '/jobs/AAAAAAAAAAAAAAAAAAAAAA/retry',
    headers: authed,
    status: 404,
    code: 'notFound',
  },
  {
    name: 'retry with GET',
    method: 'GET',
    path: '/jobs/AAAAAAAAAAAAAAAAAAAAAA/retry',
    headers: authed,
    status: 405,
    code: 'methodNotAllowed',
  },
  {
    name: 'retry without a token',
    method: 'POST',
    path: '/jobs/AAAAAAAAAAAAAAAAAAAAAA/retry',
    status: 401,
    code: 'unauthorized',
  },
  ...TOKEN_CASES,
  // The status page and its read
  { name: 'status without a token', method: 'GET', path: '/status', status: 401, code: 'unauthorized' },
  {
    name: 'status with a wrong token',
    method: 'GET',
    path: '/status',
    headers: { authorization: 'Bearer {bad}' },
    status: 401,
    code: 'unauthorized',
  },
  { name: 'status with POST', method: 'POST', path: '/status', headers: authed, status: 405 },
  {
    name: 'the page posted to (a token in a form body)',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'token={token}',
    status: 405,
    code: 'methodNotAllowed',
  },
  { name: 'an unknown page asset', method: 'GET', path: '/assets/app-ffffffffffff.js', status: 404 },
  { name: 'a page asset path with ..', method: 'GET', path: '/assets/..%2F..%2Fpackage.json', status: 404 },
  { name: 'a nested asset path', method: 'GET', path: '/assets/x/../../package.json', status: 404 },
  ...NOTIFY_BAD_CASES,
];
