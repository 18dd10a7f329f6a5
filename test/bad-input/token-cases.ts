/**
 * Hostile requests about tokens (issue 10): forged, expired and replayed signatures, Basic variants,
 * scope violations, revoked tokens, other users' token ids, token bodies, chunked oversize bodies, deep
 * and wide folder trees, and private callback hosts in more spellings. Placeholders (replaced by the
 * runner): `{token}` the admin token, `{full}`, `{submit}`, `{read}` tokens of those scopes, `{revoked}` a
 * revoked one, `{signed}` a signed submit token (its requests get `sign`), `{bobTokenId}` the id of
 * another user's token, `{bad}` an unknown token; `[[b64:…]]` is base64-encoded after that.
 */
import type { BadCase } from './cases.js';

const json = { 'content-type': 'application/json' };
const job = '{"url":"https://e.co/a"}';
const bearer = (t: string) => ({ authorization: `Bearer {${t}}`, ...json });
const basic = (credentials: string | Buffer) =>
  `Basic ${Buffer.from(credentials as string).toString('base64')}`;
/** Basic credentials holding a placeholder: the runner fills them in, then base64-encodes `[[b64:…]]`. */
const basicOf = (credentials: string) => `Basic [[b64:${credentials}]]`;

const signed = (name: string, sign: NonNullable<BadCase['sign']>, extra: Partial<BadCase> = {}): BadCase => ({
  name: `signed token: ${name}`,
  method: 'POST',
  path: '/jobs',
  headers: bearer('signed'),
  body: job,
  status: 401,
  code: 'invalidSignature',
  sign,
  ...extra,
});

const forbidden = (name: string, method: string, path: string, token: string, body?: string): BadCase => ({
  name,
  method,
  path,
  headers: bearer(token),
  ...(body !== undefined ? { body } : {}),
  status: 403,
  code: 'forbidden',
});

const callback = (callbackUrl: string): BadCase => ({
  name: `callbackUrl on a private host, spelled ${callbackUrl}`,
  method: 'POST',
  path: '/jobs',
  headers: bearer('token'),
  body: JSON.stringify({ url: 'https://e.co/a', callbackUrl }),
  status: 400,
  code: 'invalidCallbackUrl',
});

/** The token cases; every one must be a 4xx JSON error that changes nothing. */
export const TOKEN_CASES: BadCase[] = [
  // Signatures (Standard Webhooks)
  signed('no signature headers at all', {
    id: 'msg_none',
    omit: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
  }),
  signed('webhook-signature missing', { id: 'msg_nosig', omit: ['webhook-signature'] }),
  signed('webhook-id missing', { id: 'msg_noid', omit: ['webhook-id'] }),
  signed('webhook-timestamp missing', { id: 'msg_nots', omit: ['webhook-timestamp'] }),
  signed('forged signature', { id: 'msg_forged', signature: 'v1,bm90IGEgcmVhbCBzaWduYXR1cmUgYXQgYWxsIQ==' }),
  signed('empty signature value', { id: 'msg_empty', signature: ' ' }),
  signed('signed with another secret', { id: 'msg_wrongsecret', secret: 'wrong' }),
  signed('tampered body', { id: 'msg_tampered', body: '{"url":"https://e.co/original"}' }),
  signed('body re-serialised with spaces', { id: 'msg_spaces', body: '{ "url": "https://e.co/a" }' }),
  signed('expired: signed 6 minutes ago', { id: 'msg_expired', ageS: 360 }),
  signed('replayed an hour later', { id: 'msg_replayed_late', ageS: 3600 }),
  signed('timestamp 10 minutes ahead', { id: 'msg_future', ageS: -600 }),
  signed('replayed with the timestamp moved to now', { id: 'msg_moved', ageS: 400, timestamp: 'now' }),
  signed('timestamp not a number', { id: 'msg_nan', timestamp: 'yesterday' }),
  signed('timestamp in milliseconds', { id: 'msg_ms', timestamp: 'ms' }),
  signed('only an asymmetric v1a signature', { id: 'msg_v1a', scheme: 'v1a' }),
  signed('webhook-id of 200 characters', { id: `msg_${'x'.repeat(196)}` }),
  signed(
    'on the hook path without a signature',
    { id: 'msg_hook', omit: ['webhook-signature'] },
    {
      path: '/hooks/{signed}',
      headers: json,
    },
  ),
  signed(
    'with Basic auth and no signature',
    { id: 'msg_basic', omit: ['webhook-signature'] },
    {
      headers: { authorization: basicOf('zapier:{signed}'), ...json },
    },
  ),
  signed(
    'GET /jobs unsigned',
    { id: 'msg_get', omit: ['webhook-signature'] },
    {
      method: 'GET',
      headers: { authorization: 'Bearer {signed}' },
      body: undefined,
    },
  ),

  // Basic auth variants
  ...(
    [
      ['Basic auth: an unknown token as the username, empty password', basicOf('{bad}:')],
      ['Basic auth: a non-UTF-8 username', basic(Buffer.from([0xc3, 0x28, 0x3a, 0x61]))],
      ['Basic auth: a Latin-1 password', basic(Buffer.from([0x75, 0x3a, 0xe9, 0xe8]))],
      ['Basic auth: a valid token as the username and a wrong password', basicOf('{token}:wrong')],
      ['Basic auth: a revoked token as the password', basicOf('zapier:{revoked}')],
      ['Basic auth: only whitespace after the scheme', 'Basic    '],
      ['Basic auth: base64url alphabet', 'Basic dXNlcjp-_w=='],
    ] as const
  ).map(
    ([name, authorization]): BadCase => ({
      name,
      method: 'POST',
      path: '/jobs',
      headers: { authorization, ...json },
      body: job,
      status: 401,
      code: 'unauthorized',
    }),
  ),

  // Scope violations
  forbidden('submit token reading GET /jobs', 'GET', '/jobs', 'submit'),
  forbidden('submit token reading GET /jobs/{id}', 'GET', '/jobs/AAAAAAAAAAAAAAAAAAAAAA', 'submit'),
  forbidden('submit token reading GET /reports/latest', 'GET', '/reports/latest', 'submit'),
  forbidden('submit token listing GET /tokens', 'GET', '/tokens', 'submit'),
  forbidden('submit token retrying a job', 'POST', '/jobs/AAAAAAAAAAAAAAAAAAAAAA/retry', 'submit'),
  forbidden('submit token creating a token', 'POST', '/tokens', 'submit', '{"name":"x","scope":"submit"}'),
  {
    ...forbidden('a hook-path token used on GET /jobs through X-Api-Key', 'GET', '/jobs', 'submit'),
    headers: { 'x-api-key': '{submit}' },
  },
  {
    ...forbidden('a hook-path token used on GET through Basic auth', 'GET', '/jobs?status=done', 'submit'),
    headers: { authorization: basicOf('zapier:{submit}') },
  },
  forbidden('read token writing POST /jobs', 'POST', '/jobs', 'read', job),
  {
    ...forbidden('read token writing through the hook path', 'POST', '/hooks/{read}', 'read', job),
    headers: json,
  },
  forbidden('read token retrying a job', 'POST', '/jobs/AAAAAAAAAAAAAAAAAAAAAA/retry', 'read'),
  forbidden('read token creating a token', 'POST', '/tokens', 'read', '{"name":"x","scope":"read"}'),
  forbidden('read token revoking a token', 'DELETE', '/tokens/{bobTokenId}', 'read'),
  forbidden('read token resetting the circuit', 'POST', '/admin/circuit/reset', 'read'),
  forbidden('full token resetting the circuit', 'POST', '/admin/circuit/reset', 'full'),
  forbidden('full token reading the relay-wide report', 'GET', '/reports/latest?scope=all', 'full'),
  forbidden('full token creating an admin token', 'POST', '/tokens', 'full', '{"name":"x","scope":"admin"}'),
  forbidden(
    'full token creating a token for another user',
    'POST',
    '/tokens',
    'full',
    '{"name":"x","user":"bob"}',
  ),
  {
    ...forbidden('GET with a hook token in the hook path', 'GET', '/hooks/{submit}', 'submit'),
    headers: {},
    status: 405,
    code: 'methodNotAllowed',
  },

  // Revoked tokens
  {
    name: 'revoked token on POST /jobs',
    method: 'POST',
    path: '/jobs',
    headers: bearer('revoked'),
    body: job,
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'revoked token on the hook path',
    method: 'POST',
    path: '/hooks/{revoked}',
    headers: json,
    body: job,
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'revoked token as X-Api-Key on GET /jobs',
    method: 'GET',
    path: '/jobs',
    headers: { 'x-api-key': '{revoked}' },
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'revoked token listing tokens',
    method: 'GET',
    path: '/tokens',
    headers: { authorization: 'Bearer {revoked}' },
    status: 401,
    code: 'unauthorized',
  },

  // Token ids and bodies
  {
    name: "DELETE another user's token id",
    method: 'DELETE',
    path: '/tokens/{bobTokenId}',
    headers: bearer('token'),
    status: 404,
    code: 'notFound',
  },
  {
    name: "DELETE another user's token id with a full token",
    method: 'DELETE',
    path: '/tokens/{bobTokenId}',
    headers: bearer('full'),
    status: 404,
    code: 'notFound',
  },
  {
    name: 'DELETE an unknown token id',
    method: 'DELETE',
    path: '/tokens/tok_AAAAAAAAAAAAAAAA',
    headers: bearer('token'),
    status: 404,
    code: 'notFound',
  },
  {
    name: 'DELETE a token id of 500 characters',
    method: 'DELETE',
    path: `/tokens/tok_${'a'.repeat(496)}`,
    headers: bearer('token'),
    status: 404,
    code: 'notFound',
  },
  {
    name: 'DELETE a token by its secret instead of its id',
    method: 'DELETE',
    path: '/tokens/{full}',
    headers: bearer('token'),
    status: 404,
    code: 'notFound',
  },
  {
    name: 'DELETE /tokens without an id',
    method: 'DELETE',
    path: '/tokens',
    headers: bearer('token'),
    status: 405,
    code: 'methodNotAllowed',
  },
  {
    name: 'DELETE a token without credentials',
    method: 'DELETE',
    path: '/tokens/{bobTokenId}',
    status: 401,
    code: 'unauthorized',
  },
  ...(
    [
      ['POST /tokens with invalid JSON', '{"name":', 'invalidJson'],
      ['POST /tokens without a name', '{"scope":"read"}', 'invalidBody'],
      ['POST /tokens with an unknown field', '{"name":"x","admin":true}', 'invalidBody'],
      ['POST /tokens with an unknown scope', '{"name":"x","scope":"root"}', 'invalidBody'],
      ['POST /tokens with a name of 65 characters', JSON.stringify({ name: 'n'.repeat(65) }), 'invalidBody'],
      ['POST /tokens with a control character in the name', '{"name":"a\\u0007b"}', 'invalidBody'],
      ['POST /tokens with signed as a string', '{"name":"x","signed":"true"}', 'invalidBody'],
      ['POST /tokens with a malformed user id', '{"name":"x","user":"../bob"}', 'invalidBody'],
      ['POST /tokens with an array body', '[{"name":"x"}]', 'invalidBody'],
    ] as const
  ).map(
    ([name, body, code]): BadCase => ({
      name,
      method: 'POST',
      path: '/tokens',
      headers: bearer('token'),
      body,
      status: 400,
      code,
    }),
  ),
  {
    name: 'POST /tokens as text/plain',
    method: 'POST',
    path: '/tokens',
    headers: { authorization: 'Bearer {token}', 'content-type': 'text/plain' },
    body: 'name=x',
    status: 415,
  },
  {
    name: 'POST /tokens with a 5 KB body',
    method: 'POST',
    path: '/tokens',
    headers: bearer('token'),
    body: JSON.stringify({ name: 'x', pad: 'p'.repeat(5000) }),
    status: 413,
    code: 'bodyTooLarge',
  },

  // Chunked bodies over the limit (no Content-Length): cut off while reading
  {
    name: 'chunked 300 KB body on POST /jobs',
    method: 'POST',
    path: '/jobs',
    headers: bearer('token'),
    chunkedBytes: 300 * 1024,
    status: 413,
    code: 'bodyTooLarge',
  },
  {
    name: 'chunked 1 MB body on the hook path',
    method: 'POST',
    path: '/hooks/{token}',
    headers: json,
    chunkedBytes: 1024 * 1024,
    status: 413,
    code: 'bodyTooLarge',
  },
  {
    name: 'chunked 300 KB body with a signed token',
    method: 'POST',
    path: '/jobs',
    headers: bearer('signed'),
    chunkedBytes: 300 * 1024,
    status: 413,
    code: 'bodyTooLarge',
  },
  {
    name: 'chunked 8 KB body on POST /tokens',
    method: 'POST',
    path: '/tokens',
    headers: bearer('token'),
    chunkedBytes: 8 * 1024,
    status: 413,
    code: 'bodyTooLarge',
  },

  // Deep and wide folder trees
  ...(
    [
      [
        'folder 50 levels deep',
        JSON.stringify({
          url: 'https://e.co/a',
          folder: Array.from({ length: 50 }, (_, i) => `d${i}`).join('/'),
        }),
      ],
      [
        'folder of 11 one-character levels',
        JSON.stringify({ url: 'https://e.co/a', folder: 'a/b/c/d/e/f/g/h/i/j/k' }),
      ],
      [
        '100 distinct folders in one request',
        JSON.stringify(
          Array.from({ length: 100 }, (_, i) => ({ url: `https://e.co/${i}`, folder: `W${i}` })),
        ),
      ],
      [
        '21 distinct sub-folders of one parent',
        JSON.stringify(
          Array.from({ length: 21 }, (_, i) => ({ url: `https://e.co/${i}`, folder: `P/c${i}` })),
        ),
      ],
      [
        'one deep folder among valid ones',
        JSON.stringify([
          { url: 'https://e.co/1', folder: 'ok' },
          { url: 'https://e.co/2', folder: Array(12).fill('x').join('/') },
        ]),
      ],
    ] as const
  ).map(
    ([name, body]): BadCase => ({
      name,
      method: 'POST',
      path: '/jobs',
      headers: bearer('token'),
      body,
      status: 400,
    }),
  ),

  // Private callback hosts in more spellings
  ...[
    'http://[::ffff:7f00:1]/cb',
    'http://[0:0:0:0:0:ffff:127.0.0.1]/cb',
    'http://[::ffff:127.0.0.1]:80/cb',
    'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
    'http://0x7f000001/cb',
    'http://017700000001/cb',
    'http://0x7f.0x0.0x0.0x1/cb',
    'http://127.000.000.001/cb',
    'http://2130706433./cb',
    'http://%31%32%37.0.0.1/cb',
    'http://①②⑦.0.0.1/cb',
    'http://LOCALHOST/cb',
    'http://LocalHost./cb',
    'https://localhost.:443/cb',
    'http://0/cb',
    'http://[::]/cb',
    'http://[fe80::1]/cb',
    'http://172.16.0.1/cb',
    'http://198.18.0.1/cb',
    'http://[64:ff9b::7f00:1]/cb',
  ].map(callback),
];
