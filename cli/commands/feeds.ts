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
  title?: string;
  folder?: string;
  include?: string[];
  exclude?: string[];
  pick?: string;
  intervalS?: number;
  state?: 'active' | 'failing' | 'disabled';
  lastFetchAt?: string;
  lastStatus?: number;
  nextFetchAt?: string;
  consecutiveFailures?: number;
  lastError?: string;
  /** For people, when the feed is failing. */
  warning?: string;
  disabledReason?: string;
}

/** An item decision of `GET /feeds/{id}`. */
interface Decision {
  decision: 'enqueued' | 'skipped';
  title?: string;
  key?: string;
  reason?: string;
  detail?: string;
  jobIds?: string[];
  at?: string;
}

/** An item of `POST /feeds/preview`. */
interface PreviewItem {
  title?: string;
  link?: string;
  decision: 'enqueue' | 'skip';
  urls?: string[];
  reason?: string;
  detail?: string;
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
      ['ID', 'STATE', 'LAST FETCH', 'NEXT FETCH', 'FAILURES', 'URL'],
      ...feeds.map((f) => [
        f.id,
        f.state ?? '',
        f.lastFetchAt ? formatTime(f.lastFetchAt) : '-',
        f.nextFetchAt ? formatTime(f.nextFetchAt) : '-',
        String(f.consecutiveFailures ?? 0),
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
  const feed = await api.request<Feed & { items?: Decision[] }>({ path: `/feeds/${encodeURIComponent(id)}` });
  if (ctx.out.json) {
    ctx.out.printJson(feed);
    return EXIT.ok;
  }
  const { out } = ctx;
  out.line(`${feed.id}  ${feed.url}${feed.title ? `  ${out.paint.bold(feed.title)}` : ''}`);
  if (feed.state)
    out.line(`  state       ${feed.state === 'active' ? feed.state : out.paint.red(feed.state)}`);
  if (feed.folder) out.line(`  folder      ${feed.folder}`);
  if (feed.include?.length) out.line(`  include     ${feed.include.join(', ')}`);
  if (feed.exclude?.length) out.line(`  exclude     ${feed.exclude.join(', ')}`);
  out.line(
    `  last fetch  ${feed.lastFetchAt ? `${formatTime(feed.lastFetchAt)}${feed.lastStatus ? ` (HTTP ${feed.lastStatus})` : ''}` : 'never'}`,
  );
  out.line(`  next fetch  ${feed.nextFetchAt ? formatTime(feed.nextFetchAt) : '-'}`);
  if (feed.consecutiveFailures)
    out.line(out.paint.red(`  failures    ${feed.consecutiveFailures} in a row: ${feed.lastError ?? ''}`));
  if (feed.warning) out.line(out.paint.yellow(`  ${feed.warning}`));
  if (feed.disabledReason) out.line(out.paint.red(`  disabled: ${feed.disabledReason}`));
  for (const d of feed.items ?? []) {
    const why =
      d.decision === 'skipped' ? out.paint.dim(` (${[d.reason, d.detail].filter(Boolean).join(': ')})`) : '';
    const jobs = d.jobIds?.length ? out.paint.dim(` → ${d.jobIds.join(', ')}`) : '';
    out.line(`  ${d.decision.padEnd(9)} ${d.title ?? d.key ?? ''}${why}${jobs}`);
  }
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
  const backfill = intOption(ctx.values, 'backfill', 'feeds preview');
  const api = new RelayApi(await ctx.connect());
  const res = await api.request<{ title?: string; items?: PreviewItem[]; wouldEnqueue?: number }>({
    method: 'POST',
    path: '/feeds/preview',
    json: { ...body, ...(backfill !== undefined ? { backfill } : {}) },
  });
  if (ctx.out.json) ctx.out.printJson(res);
  else {
    const { out } = ctx;
    if (res.title) out.line(out.paint.bold(res.title));
    for (const i of res.items ?? []) {
      const take = i.decision === 'enqueue';
      const word = take ? out.paint.green('take') : out.paint.dim('skip');
      const what = take
        ? (i.urls ?? []).join(' ')
        : out.paint.dim(`(${[i.reason, i.detail].filter(Boolean).join(': ')})`);
      out.line(`  ${word}  ${i.title ?? i.link ?? ''}  ${what}`);
    }
    out.line(
      out.paint.dim(
        `Preview only: nothing was added${res.wouldEnqueue !== undefined ? ` (adding it would take ${res.wouldEnqueue} item(s) now)` : ''}. relay feeds add … with the same options adds it.`,
      ),
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
  const folder = str(ctx.values, 'folder');
  const api = new RelayApi(await ctx.connect());
  // The raw OPML as XML, or JSON {opml, folder} to put every feed's files in one folder.
  const res = await api.request<{
    feeds?: Feed[];
    refused?: { outline?: { xmlUrl?: string; text?: string; title?: string }; reason?: string }[];
  }>(
    folder !== undefined
      ? { method: 'POST', path: '/feeds/import', json: { opml: text, folder } }
      : { method: 'POST', path: '/feeds/import', body: text, contentType: 'text/x-opml' },
  );
  if (ctx.out.json) ctx.out.printJson(res);
  else {
    const made = res.feeds ?? [];
    const refused = res.refused ?? [];
    ctx.out.line(`Imported ${made.length} feed(s)${refused.length ? `, refused ${refused.length}` : ''}.`);
    for (const f of made) ctx.out.line(`  ${f.id}  ${f.url}`);
    for (const r of refused)
      ctx.out.line(
        `  ${ctx.out.paint.red('refused')}  ${r.outline?.xmlUrl ?? r.outline?.text ?? r.outline?.title ?? ''}: ${r.reason ?? ''}`,
      );
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
    options: {
      ...feedOptions,
      backfill: {
        type: 'string',
        value: '<n>',
        description: 'preview as a new feed taking the n newest items',
      },
    },
    run: preview,
  },
  {
    name: 'feeds import',
    summary: 'Add the feeds of an OPML file.',
    args: '<file.opml|->',
    options: { folder: feedOptions.folder },
    run: importOpml,
  },
];
