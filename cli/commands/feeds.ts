/** `relay feeds add|ls|show|rm|preview|import`: the `/feeds` routes. */
import { readFileSync } from 'node:fs';
import { listOf, RelayApi } from '../api.js';
import { type CommandContext, type CommandSpec, intOption, str, strs } from '../args.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { formatTime, table } from '../output.js';
import { readStdin } from '../prompt.js';

interface Feed {
  id: string;
  url: string;
  folder?: string;
  include?: string[];
  exclude?: string[];
  pick?: string;
  intervalS?: number;
  lastFetchAt?: string;
  nextFetchAt?: string;
  failures?: number;
  lastError?: string | { code?: string; message?: string };
  [k: string]: unknown;
}

const feedOptions = {
  include: {
    type: 'string',
    multiple: true,
    value: '<regex>',
    description: 'only items whose title or URL match',
  },
  exclude: { type: 'string', multiple: true, value: '<regex>', description: 'skip items that match' },
  pick: {
    type: 'string',
    value: '<enclosure|link>',
    description: 'which URL of an item to upload (default enclosure)',
  },
  folder: { type: 'string', value: '<Path/To/Folder>', description: '1fichier folder for the feed’s files' },
} as const;

function feedBody(ctx: CommandContext, command: string): Record<string, unknown> {
  const [url, ...rest] = ctx.positionals;
  if (!url || rest.length) throw usageError('give one feed URL', command);
  const pick = str(ctx.values, 'pick');
  if (pick && pick !== 'enclosure' && pick !== 'link')
    throw usageError('--pick must be enclosure or link', command);
  const include = strs(ctx.values, 'include');
  const exclude = strs(ctx.values, 'exclude');
  const folder = str(ctx.values, 'folder');
  return {
    url,
    ...(include.length ? { include } : {}),
    ...(exclude.length ? { exclude } : {}),
    ...(pick ? { pick } : {}),
    ...(folder !== undefined ? { folder } : {}),
  };
}

const errText = (e: Feed['lastError']) => (typeof e === 'string' ? e : (e?.message ?? e?.code ?? ''));

async function add(ctx: CommandContext): Promise<number> {
  const body = feedBody(ctx, 'feeds add');
  const backfill = intOption(ctx.values, 'backfill', 'feeds add');
  const intervalS = intOption(ctx.values, 'interval', 'feeds add', 60);
  const api = new RelayApi(await ctx.connect());
  const feed = await api.request<Feed>({
    method: 'POST',
    path: '/feeds',
    json: {
      ...body,
      ...(backfill !== undefined ? { backfill } : {}),
      ...(intervalS !== undefined ? { intervalS } : {}),
    },
  });
  if (ctx.out.json) ctx.out.printJson(feed);
  else
    ctx.out.line(
      `Feed ${feed.id} added: ${feed.url}${feed.nextFetchAt ? ` (first fetch ${formatTime(feed.nextFetchAt)})` : ''}`,
    );
  return EXIT.ok;
}

async function ls(ctx: CommandContext): Promise<number> {
  const api = new RelayApi(await ctx.connect());
  const res = await api.request<unknown>({ path: '/feeds' });
  const feeds = listOf<Feed>(res, 'feeds');
  if (ctx.out.json) ctx.out.printJson(res);
  else if (feeds.length === 0) ctx.out.line('No feeds: relay feeds add <url>');
  else
    for (const l of table([
      ['ID', 'LAST FETCH', 'NEXT FETCH', 'FAILURES', 'URL'],
      ...feeds.map((f) => [
        f.id,
        f.lastFetchAt ? formatTime(f.lastFetchAt) : '-',
        f.nextFetchAt ? formatTime(f.nextFetchAt) : '-',
        String(f.failures ?? 0),
        f.url,
      ]),
    ]))
      ctx.out.line(l);
  return EXIT.ok;
}

async function show(ctx: CommandContext): Promise<number> {
  const [id] = ctx.positionals;
  if (!id) throw usageError('give a feed id (relay feeds ls)', 'feeds show');
  const api = new RelayApi(await ctx.connect());
  const feed = await api.request<
    Feed & { items?: { title?: string; url?: string; decision?: string; reason?: string; jobId?: string }[] }
  >({
    path: `/feeds/${encodeURIComponent(id)}`,
  });
  if (ctx.out.json) {
    ctx.out.printJson(feed);
    return EXIT.ok;
  }
  const { out } = ctx;
  out.line(`${feed.id}  ${feed.url}`);
  if (feed.folder) out.line(`  folder      ${feed.folder}`);
  if (feed.include?.length) out.line(`  include     ${feed.include.join(', ')}`);
  if (feed.exclude?.length) out.line(`  exclude     ${feed.exclude.join(', ')}`);
  out.line(`  last fetch  ${feed.lastFetchAt ? formatTime(feed.lastFetchAt) : 'never'}`);
  out.line(`  next fetch  ${feed.nextFetchAt ? formatTime(feed.nextFetchAt) : '-'}`);
  if (feed.failures) out.line(out.paint.red(`  failures    ${feed.failures}: ${errText(feed.lastError)}`));
  for (const i of feed.items ?? [])
    out.line(
      `  ${(i.decision ?? '').padEnd(9)} ${i.title ?? i.url ?? ''}${i.reason ? out.paint.dim(` (${i.reason})`) : ''}`,
    );
  return EXIT.ok;
}

async function rm(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length === 0) throw usageError('give the id(s) of the feed(s) to remove', 'feeds rm');
  const api = new RelayApi(await ctx.connect());
  for (const id of ctx.positionals)
    await api.request({ method: 'DELETE', path: `/feeds/${encodeURIComponent(id)}` });
  if (ctx.out.json) ctx.out.printJson({ removed: ctx.positionals });
  else ctx.out.line(`Removed ${ctx.positionals.join(', ')}.`);
  return EXIT.ok;
}

async function preview(ctx: CommandContext): Promise<number> {
  const body = feedBody(ctx, 'feeds preview');
  const api = new RelayApi(await ctx.connect());
  const res = await api.request<{
    title?: string;
    items?: {
      title?: string;
      url?: string;
      urls?: string[];
      accept?: boolean;
      decision?: string;
      reason?: string;
    }[];
  }>({
    method: 'POST',
    path: '/feeds/preview',
    json: body,
  });
  if (ctx.out.json) ctx.out.printJson(res);
  else {
    if (res.title) ctx.out.line(ctx.out.paint.bold(res.title));
    for (const i of res.items ?? []) {
      const take = i.accept ?? i.decision === 'accept';
      const word = take ? ctx.out.paint.green('take') : ctx.out.paint.dim('skip');
      ctx.out.line(
        `  ${word}  ${i.title ?? ''}  ${i.url ?? i.urls?.join(' ') ?? ''}${i.reason ? ctx.out.paint.dim(` (${i.reason})`) : ''}`,
      );
    }
    ctx.out.line(
      ctx.out.paint.dim('Preview only: nothing was added. relay feeds add … with the same options adds it.'),
    );
  }
  return EXIT.ok;
}

async function importOpml(ctx: CommandContext): Promise<number> {
  const [file] = ctx.positionals;
  if (!file) throw usageError('give an OPML file (or - for stdin)', 'feeds import');
  let text: string;
  try {
    text = file === '-' ? await readStdin(ctx.out.io.stdin) : readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as Error).message}`,
      EXIT.usage,
      'give a readable OPML file',
    );
  }
  const api = new RelayApi(await ctx.connect());
  const res = await api.request<{ feeds?: Feed[]; created?: Feed[]; skipped?: unknown[] }>({
    method: 'POST',
    path: '/feeds/import',
    body: text,
    contentType: 'text/x-opml',
  });
  if (ctx.out.json) ctx.out.printJson(res);
  else {
    const made = res.created ?? res.feeds ?? [];
    ctx.out.line(
      `Imported ${made.length} feed(s)${res.skipped?.length ? `, skipped ${res.skipped.length}` : ''}.`,
    );
    for (const f of made) ctx.out.line(`  ${f.id}  ${f.url}`);
  }
  return EXIT.ok;
}

/** The feed commands. */
export const feedCommands: CommandSpec[] = [
  {
    name: 'feeds add',
    summary: 'Follow an RSS/Atom/JSON feed: its new items become jobs.',
    args: '<url>',
    options: {
      ...feedOptions,
      backfill: {
        type: 'string',
        value: '<n>',
        description: 'also take the n newest existing items (default 0)',
      },
      interval: { type: 'string', value: '<seconds>', description: 'fetch at most this often' },
    },
    run: add,
  },
  { name: 'feeds ls', summary: 'List feeds with their last and next fetch and failures.', run: ls },
  { name: 'feeds show', summary: 'One feed: its state and recent item decisions.', args: '<id>', run: show },
  { name: 'feeds rm', summary: 'Stop following feeds.', args: '<id…>', run: rm },
  {
    name: 'feeds preview',
    summary: 'Fetch a feed and show which items the filters would take; adds nothing.',
    args: '<url>',
    options: feedOptions,
    run: preview,
  },
  { name: 'feeds import', summary: 'Add the feeds of an OPML file.', args: '<file.opml|->', run: importOpml },
];
