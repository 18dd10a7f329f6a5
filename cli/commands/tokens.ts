/** `relay tokens create|ls|revoke`: `POST /tokens`, `GET /tokens`, `DELETE /tokens/{id}`. */
import { listOf, RelayApi } from '../api.js';
import { type CommandContext, type CommandSpec, str } from '../args.js';
import { EXIT, usageError } from '../errors.js';
import { formatTime, table } from '../output.js';

const SCOPES = ['admin', 'full', 'submit', 'read'];

interface TokenInfo {
  id: string;
  user?: string;
  name?: string;
  scope?: string;
  signed?: boolean;
  createdAt?: string;
  lastUsedAt?: string;
  token?: string;
  signingSecret?: string;
}

async function create(ctx: CommandContext): Promise<number> {
  const name = str(ctx.values, 'name') ?? ctx.positionals[0];
  if (!name) throw usageError('give the token a name: relay tokens create --name <name>', 'tokens create');
  const scope = str(ctx.values, 'scope');
  if (scope && !SCOPES.includes(scope))
    throw usageError(`--scope must be one of ${SCOPES.join(', ')}`, 'tokens create');
  const user = str(ctx.values, 'user');
  const api = new RelayApi(await ctx.connect());
  const t = await api.request<TokenInfo>({
    method: 'POST',
    path: '/tokens',
    json: {
      name,
      ...(scope ? { scope } : {}),
      ...(ctx.values.signed ? { signed: true } : {}),
      ...(user ? { user } : {}),
    },
  });
  if (ctx.out.json) ctx.out.printJson(t);
  else {
    ctx.out.line(
      `Token ${t.id} "${t.name ?? name}" (scope ${t.scope ?? scope ?? 'full'}${t.user ? `, user ${t.user}` : ''}). Shown once; store it now:`,
    );
    ctx.out.line(t.token ?? '');
    if (t.signingSecret) {
      ctx.out.line('Signing secret (every request must be signed per Standard Webhooks; shown once):');
      ctx.out.line(t.signingSecret);
    }
  }
  return EXIT.ok;
}

async function ls(ctx: CommandContext): Promise<number> {
  const api = new RelayApi(await ctx.connect());
  const res = await api.request<unknown>({ path: '/tokens' });
  const tokens = listOf<TokenInfo>(res, 'tokens');
  if (ctx.out.json) ctx.out.printJson(res);
  else if (tokens.length === 0) ctx.out.line('No tokens.');
  else
    for (const l of table([
      ['ID', 'NAME', 'SCOPE', 'USER', 'CREATED', 'LAST USED'],
      ...tokens.map((t) => [
        t.id,
        t.name ?? '',
        `${t.scope ?? ''}${t.signed ? ' (signed)' : ''}`,
        t.user ?? '',
        t.createdAt ? formatTime(t.createdAt) : '',
        t.lastUsedAt ? formatTime(t.lastUsedAt) : '',
      ]),
    ]))
      ctx.out.line(l);
  return EXIT.ok;
}

async function revoke(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length === 0)
    throw usageError('give the id(s) of the token(s) to revoke (relay tokens ls)', 'tokens revoke');
  const api = new RelayApi(await ctx.connect());
  for (const id of ctx.positionals)
    await api.request({ method: 'DELETE', path: `/tokens/${encodeURIComponent(id)}` });
  if (ctx.out.json) ctx.out.printJson({ revoked: ctx.positionals });
  else ctx.out.line(`Revoked ${ctx.positionals.join(', ')} (refused everywhere within 5 s).`);
  return EXIT.ok;
}

/** The token commands. */
export const tokenCommands: CommandSpec[] = [
  {
    name: 'tokens create',
    summary: 'Create a client token (shown once).',
    args: '[name]',
    options: {
      name: { type: 'string', value: '<name>', description: 'what the token is for (e.g. ifttt)' },
      scope: { type: 'string', value: '<scope>', description: `${SCOPES.join(' | ')} (default full)` },
      signed: {
        type: 'boolean',
        description: 'requests with it must be signed (Standard Webhooks); prints a signing secret',
      },
      user: { type: 'string', value: '<id>', description: 'for another user (admin token only)' },
    },
    run: create,
  },
  { name: 'tokens ls', summary: 'List tokens (never their secrets).', run: ls },
  { name: 'tokens revoke', summary: 'Revoke tokens by id.', args: '<id…>', run: revoke },
];
