/** `relay submit`, `status`, `jobs`, `watch`, `retry`: jobs over `POST /jobs`, `GET /jobs…`, `POST /jobs/{id}/retry`. */
import { readFileSync } from 'node:fs';
import { parseJobBody } from '../../shared/http/job-input.js';
import type { JobRequest } from '../../shared/jobs/enqueue.js';
import { jobIdFor } from '../../shared/jobs/ids.js';
import { RelayApi } from '../api.js';
import { type CommandContext, type CommandSpec, intOption, secondsOption, str } from '../args.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { type ApiJob, jobLines, jobStatusView, statusWord, TERMINAL } from '../job-view.js';
import { formatTime, LiveLine, type Out, progressBar, table } from '../output.js';
import { readStdin } from '../prompt.js';

const STATUSES = ['queued', 'submitting', 'submitted', 'done', 'failed'] as const;
/** The API takes at most this many URLs per request. */
const URLS_PER_REQUEST = 500;

interface PostedJob {
  id: string;
  url: string;
  status: ApiJob['status'];
  duplicate: boolean;
  retried?: boolean;
}

/** URLs from the arguments, `-` (stdin) and `--file`: one per line, blank lines and `#` comments skipped. */
async function collectUrls(ctx: CommandContext): Promise<string[]> {
  const lines = (text: string) =>
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  const urls: string[] = [];
  for (const p of ctx.positionals) {
    if (p === '-') urls.push(...lines(await readStdin(ctx.out.io.stdin)));
    else urls.push(p);
  }
  const file = str(ctx.values, 'file');
  if (file) {
    try {
      urls.push(...lines(readFileSync(file, 'utf8')));
    } catch (err) {
      throw new CliError(
        `cannot read --file ${file}: ${(err as Error).message}`,
        EXIT.usage,
        'give a readable file with one URL per line',
      );
    }
  }
  return urls;
}

/** Validates each URL as the API does (`shared/http/job-input.ts`), so every bad one is named at once. */
function validate(
  urls: string[],
  folder: string | undefined,
): { ok: JobRequest[]; bad: { url: string; reason: string }[] } {
  const ok: JobRequest[] = [];
  const bad: { url: string; reason: string }[] = [];
  for (const url of urls) {
    const text = JSON.stringify({ url, ...(folder !== undefined ? { folder } : {}) });
    try {
      ok.push(...parseJobBody('application/json', text, Buffer.byteLength(text)));
    } catch (err) {
      bad.push({ url, reason: (err as Error).message });
    }
  }
  return { ok, bad };
}

/** The token's user: known from the local runtime or `relay login --user`, else from `GET /tokens` when it shows one user. */
async function findUser(ctx: CommandContext, api: RelayApi): Promise<{ user?: string; how: string }> {
  const given = str(ctx.values, 'user');
  if (given) return { user: given, how: '--user' };
  const conn = await ctx.connect();
  if (conn.user)
    return { user: conn.user, how: conn.source === 'local' ? 'the local relay' : 'the config file' };
  try {
    const list = await api.request<{ tokens?: { user?: string }[] } | undefined>({
      path: '/tokens',
      allow404: true,
    });
    const users = new Set((list?.tokens ?? []).map((t) => t.user).filter(Boolean));
    if (users.size === 1) return { user: [...users][0] as string, how: 'GET /tokens' };
  } catch {
    // no tokens route or no right to list: dedupe stays unchecked, and the output says so
  }
  return { how: 'unknown' };
}

async function dryRun(ctx: CommandContext, urls: string[], folder: string | undefined): Promise<number> {
  const { out } = ctx;
  const { ok, bad } = validate(urls, folder);
  const api = new RelayApi(await ctx.connect());
  const { user, how } = ok.length ? await findUser(ctx, api) : { user: undefined, how: 'unknown' };
  const method = user
    ? `dedupe checked by computing each job id as the relay does (sha256 of user, normalised URL and folder; user from ${how}) and asking GET /jobs/<id>`
    : 'dedupe not checked: the token’s user is unknown (pass --user <id>, or `relay login --user <id>`)';
  const items: { url: string; folder: string; action: string; id?: string; status?: string }[] = [];
  const seen = new Set<string>();
  for (const r of ok) {
    if (!user) {
      items.push({ url: r.url, folder: r.folder, action: 'valid' });
      continue;
    }
    const id = jobIdFor(user, r.url, r.folder);
    if (seen.has(id)) {
      items.push({ url: r.url, folder: r.folder, action: 'duplicate', id });
      continue;
    }
    seen.add(id);
    const existing = await api.request<ApiJob | undefined>({
      path: `/jobs/${encodeURIComponent(id)}`,
      allow404: true,
    });
    const action = !existing ? 'create' : existing.status === 'failed' ? 'retry' : 'duplicate';
    items.push({
      url: r.url,
      folder: r.folder,
      action,
      id,
      ...(existing ? { status: existing.status } : {}),
    });
  }
  if (out.json) {
    out.printJson({
      dryRun: true,
      dedupe: user ? 'computed' : 'unchecked',
      method,
      jobs: items,
      invalid: bad,
    });
  } else {
    out.line(out.paint.bold('Dry run: nothing was created.'));
    const words: Record<string, string> = {
      create: out.paint.green('would create'),
      duplicate: out.paint.dim('duplicate of'),
      retry: out.paint.yellow('would retry'),
      valid: 'valid',
    };
    for (const line of table(
      items.map((i) => [
        words[i.action] ?? i.action,
        i.id ? `${i.id}${i.status ? ` (${i.status})` : ''}` : '',
        i.url,
      ]),
    ))
      out.line(line);
    for (const b of bad) out.line(`${out.paint.red('invalid')}       ${b.url}: ${b.reason}`);
    out.line(out.paint.dim(method));
  }
  return bad.length ? EXIT.usage : EXIT.ok;
}

async function submit(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const urls = await collectUrls(ctx);
  if (urls.length === 0)
    throw usageError('give at least one URL (or `-` to read them from stdin, or --file)', 'submit');
  const folder = str(ctx.values, 'folder');
  if (ctx.values['dry-run']) return dryRun(ctx, urls, folder);
  const { bad } = validate(urls, folder);
  if (bad.length) {
    for (const b of bad) out.err(`relay: invalid URL ${b.url}: ${b.reason}`);
    throw new CliError(
      `${bad.length} of ${urls.length} URL(s) are invalid; nothing was submitted`,
      EXIT.usage,
      'fix or remove them and submit again (`--dry-run` checks without creating)',
    );
  }
  const api = new RelayApi(await ctx.connect());
  const jobs: PostedJob[] = [];
  for (let i = 0; i < urls.length; i += URLS_PER_REQUEST) {
    const part = urls.slice(i, i + URLS_PER_REQUEST);
    const res = await api.request<{ jobs: PostedJob[] }>({
      method: 'POST',
      path: '/jobs',
      json: { urls: part, ...(folder !== undefined ? { folder } : {}) },
    });
    jobs.push(...res.jobs);
  }
  if (!ctx.values.follow) {
    if (out.json) out.printJson({ jobs });
    else {
      for (const j of jobs) {
        const note = j.retried
          ? out.paint.yellow('retried')
          : j.duplicate
            ? out.paint.dim('duplicate')
            : out.paint.green('new');
        out.line(`${j.id}  ${statusWord(j.status, out.paint)} ${note.padEnd(out.color ? 18 : 9)} ${j.url}`);
      }
      out.line(out.paint.dim(`Follow them: relay submit --follow … or relay status <id>`));
    }
    return EXIT.ok;
  }
  const ids = [...new Set(jobs.map((j) => j.id))];
  const final = await followJobs(ctx, api, ids, secondsOption(ctx.values, 'interval', 'submit', 1000));
  if (out.json) out.printJson({ jobs: final });
  return final.some((j) => j.status === 'failed') ? EXIT.failed : EXIT.ok;
}

/**
 * Spacing between the API requests of `--follow` and `watch`: at most 100 a minute, under the relay's
 * per-token limit (`RELAY_TOKEN_RATE_PER_MIN`, 120 by default), so following never gets the token limited.
 */
export const MIN_REQUEST_SPACING_MS = 600;
/** Jobs fetched one by one per cycle when the listing does not show them (older duplicates, retried jobs). */
const SINGLE_FETCHES_PER_CYCLE = 20;

/**
 * The current state of `ids`: from `GET /jobs` pages (newest first, 100 a page: just-submitted jobs are
 * there) when there are more than two, then one `GET /jobs/{id}` for each still missing.
 */
async function fetchJobs(api: RelayApi, ids: string[]): Promise<{ jobs: ApiJob[]; requests: number }> {
  const wanted = new Set(ids);
  const found = new Map<string, ApiJob>();
  let requests = 0;
  if (ids.length > 2) {
    const maxPages = Math.min(10, Math.ceil(ids.length / 100) + 1);
    let cursor: string | undefined;
    for (let page = 0; page < maxPages && found.size < wanted.size; page++) {
      const res: { jobs: ApiJob[]; next?: string } = await api.request({
        path: '/jobs',
        query: { limit: 100, cursor },
      });
      requests++;
      for (const j of res.jobs) if (wanted.has(j.id)) found.set(j.id, j);
      cursor = res.next;
      if (!cursor) break;
    }
  }
  const missing = ids.filter((id) => !found.has(id)).slice(0, SINGLE_FETCHES_PER_CYCLE);
  for (let i = 0; i < missing.length; i += 5) {
    const got = await Promise.all(
      missing.slice(i, i + 5).map((id) => api.request<ApiJob>({ path: `/jobs/${encodeURIComponent(id)}` })),
    );
    requests += got.length;
    for (const j of got) found.set(j.id, j);
  }
  return { jobs: [...found.values()], requests };
}

/** Polls the jobs until all have ended (or Ctrl-C): a progress bar on a TTY, one line per change otherwise. */
export async function followJobs(
  ctx: CommandContext,
  api: RelayApi,
  ids: string[],
  intervalMs: number,
): Promise<ApiJob[]> {
  const { out } = ctx;
  const live = new LiveLine(out);
  const last = new Map<string, ApiJob>();
  const say = (text: string) => (out.json ? undefined : live.print(text));
  live.update(`${progressBar(0, ids.length)} following ${ids.length} job(s)…`);
  for (;;) {
    const pending = ids.filter((id) => !TERMINAL.has(last.get(id)?.status ?? ''));
    let pause: number;
    try {
      const { jobs, requests } = await fetchJobs(api, pending);
      pause = Math.max(intervalMs, requests * MIN_REQUEST_SPACING_MS);
      for (const job of jobs) {
        const before = last.get(job.id);
        last.set(job.id, job);
        if (before?.status === job.status && before.nextAttemptAt === job.nextAttemptAt) continue;
        const waits = job.status === 'queued' && (job.waitReason || job.nextAttemptAt);
        // Ended and waiting jobs get their details (link, failure and retry hint, why and until when it
        // waits) on a terminal too; other moves are a plain line only off a terminal.
        if (TERMINAL.has(job.status) || waits) for (const l of jobLines(job, out.paint)) say(l);
        else if (!out.tty)
          say(`${formatTime(new Date().toISOString())}  ${job.id}  ${job.status.padEnd(10)} ${job.url}`);
      }
    } catch (err) {
      // Rate limited while following: wait as told and go on (the jobs are not affected).
      if (!(err instanceof CliError) || err.exitCode !== EXIT.rateLimited) throw err;
      pause = Math.max(intervalMs, err.retryAfterMs ?? 10_000);
      say(out.paint.yellow(`rate limited by the relay; polling again in ${Math.ceil(pause / 1000)} s`));
    }
    const all = ids.map((id) => last.get(id)).filter((j): j is ApiJob => j !== undefined);
    const ended = all.filter((j) => TERMINAL.has(j.status)).length;
    const failed = all.filter((j) => j.status === 'failed').length;
    const waiting = all.filter((j) => j.status === 'queued' && (j.waitReason || j.nextAttemptAt)).length;
    if (ended === ids.length) {
      live.clear();
      if (!out.json) out.line(`${progressBar(ended, ids.length)} ${ended - failed} done, ${failed} failed`);
      return all;
    }
    live.update(
      `${progressBar(ended, ids.length)} ${ended - failed} done, ${failed} failed, ${ids.length - ended} in progress${waiting ? `, ${waiting} waiting` : ''}`,
    );
    if (await sleep(pause, ctx.signal)) {
      live.clear();
      if (!out.json) out.line(`Stopped following; the jobs go on (relay status <id>, relay watch).`);
      return all;
    }
  }
}

/** Waits; resolves true when aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function status(ctx: CommandContext): Promise<number> {
  const [id, ...rest] = ctx.positionals;
  if (!id || rest.length) throw usageError('give one job id', 'status');
  const api = new RelayApi(await ctx.connect());
  const job = await api.request<ApiJob>({ path: `/jobs/${encodeURIComponent(id)}` });
  if (ctx.out.json) ctx.out.printJson(job);
  else for (const l of jobStatusView(job, ctx.out.paint)) ctx.out.line(l);
  return job.status === 'failed' ? EXIT.failed : EXIT.ok;
}

async function list(ctx: CommandContext): Promise<number> {
  const st = str(ctx.values, 'status');
  if (st && !(STATUSES as readonly string[]).includes(st))
    throw usageError(`--status must be one of ${STATUSES.join(', ')}`, 'jobs');
  const limit = intOption(ctx.values, 'limit', 'jobs', 1) ?? 20;
  const api = new RelayApi(await ctx.connect());
  const jobs: ApiJob[] = [];
  let cursor: string | undefined = str(ctx.values, 'cursor');
  do {
    const page: { jobs: ApiJob[]; next?: string } = await api.request({
      path: '/jobs',
      query: { status: st, limit: Math.min(100, limit - jobs.length), cursor },
    });
    jobs.push(...page.jobs);
    cursor = page.next;
  } while (cursor && jobs.length < limit);
  if (ctx.out.json) {
    ctx.out.printJson({ jobs, ...(cursor ? { next: cursor } : {}) });
    return EXIT.ok;
  }
  if (jobs.length === 0) ctx.out.line(st ? `No ${st} jobs.` : 'No jobs yet: relay submit <url>');
  for (const j of jobs) for (const l of jobLines(j, ctx.out.paint)) ctx.out.line(l);
  if (cursor) ctx.out.line(ctx.out.paint.dim(`More: relay jobs --limit ${limit} --cursor ${cursor}`));
  return EXIT.ok;
}

async function retry(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const api = new RelayApi(await ctx.connect());
  let ids = [...ctx.positionals];
  const skipped: ApiJob[] = [];
  if (ctx.values.failed) {
    if (ids.length) throw usageError('give job ids or --failed, not both', 'retry');
    let cursor: string | undefined;
    do {
      const page: { jobs: ApiJob[]; next?: string } = await api.request({
        path: '/jobs',
        query: { status: 'failed', limit: 100, cursor },
      });
      for (const j of page.jobs) {
        if (j.retryable === false) skipped.push(j);
        else ids.push(j.id);
      }
      cursor = page.next;
    } while (cursor);
  } else if (ids.length === 0)
    throw usageError('give job ids, or --failed to retry every failed job retrying can help', 'retry');
  ids = [...new Set(ids)];
  const results: { id: string; ok: boolean; job?: ApiJob; error?: string }[] = [];
  for (const id of ids) {
    try {
      const job = await api.request<ApiJob>({
        method: 'POST',
        path: `/jobs/${encodeURIComponent(id)}/retry`,
      });
      results.push({ id, ok: true, job });
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.failed) throw err;
      results.push({ id, ok: false, error: err.message });
    }
  }
  if (out.json)
    out.printJson({
      retried: results.filter((r) => r.ok).map((r) => r.job),
      refused: results.filter((r) => !r.ok),
      skipped,
    });
  else {
    for (const r of results)
      out.line(
        r.ok
          ? `${r.id}  ${out.paint.green('requeued')}  ${r.job?.url ?? ''}`
          : `${r.id}  ${out.paint.red('not retried')}: ${r.error}`,
      );
    for (const s of skipped)
      out.line(
        `${s.id}  ${out.paint.dim('skipped')}: retrying will not help (${s.error?.code ?? 'failed'}); \`relay retry ${s.id}\` forces it`,
      );
    if (ids.length === 0 && skipped.length === 0) out.line('No failed jobs.');
  }
  return results.some((r) => !r.ok) ? EXIT.failed : EXIT.ok;
}

function countsOf(jobs: Iterable<ApiJob>): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const j of jobs) counts[j.status] = (counts[j.status] ?? 0) + 1;
  return counts;
}

function countsText(counts: Record<string, number>, out: Out): string {
  return STATUSES.map((s) => `${statusWord(s, out.paint).trimEnd()} ${counts[s] ?? 0}`).join('  ');
}

/** The pacer part of the latest report: what stops calls to 1fichier, if anything. */
interface PacerView {
  pausedUntil?: number;
  circuitOpen?: boolean;
  circuitReason?: string;
}

/** One line about 1fichier calls being stopped, or undefined when they flow. */
export function pacerText(
  p: PacerView | null | undefined,
  asOf: string | undefined,
  out: Out,
  now = Date.now(),
): string | undefined {
  // The report is written when a job ends, so its pacer state is as of then: say so.
  const when = asOf ? ` (report of ${formatTime(asOf)})` : '';
  if (p?.circuitOpen)
    return out.paint.red(
      `1fichier circuit open: ${p.circuitReason ?? 'the key was refused'}${when}; fix the key, then relay circuit reset`,
    );
  if (p?.pausedUntil && p.pausedUntil > now)
    return out.paint.yellow(
      `1fichier calls paused until ${formatTime(new Date(p.pausedUntil).toISOString())}${when}; jobs wait`,
    );
  return undefined;
}

/**
 * The pacer state: live from `GET /status` when the relay has it (the status page's route), else from the
 * latest report (`asOf` its time: reports are written when a job ends).
 */
async function readPacer(
  api: RelayApi,
  statusRoute: boolean | undefined,
): Promise<{ view?: PacerView; asOf?: string; live: boolean }> {
  if (statusRoute !== false) {
    const status = await api.request<
      | { pacer?: { pausedUntil: string | null; circuit?: { open: boolean; reason?: string } } | null }
      | undefined
    >({ path: '/status', allow404: true });
    if (status !== undefined) {
      const p = status.pacer;
      if (!p) return { live: true };
      const view: PacerView = {
        pausedUntil: p.pausedUntil ? Date.parse(p.pausedUntil) : 0,
        circuitOpen: p.circuit?.open === true,
      };
      if (p.circuit?.reason) view.circuitReason = p.circuit.reason;
      return { view, live: true };
    }
  }
  const report = await api.request<{ pacer?: PacerView | null; period?: { to?: string } } | undefined>({
    path: '/reports/latest',
    allow404: true,
  });
  return {
    live: false,
    ...(report?.pacer ? { view: report.pacer } : {}),
    ...(report?.period?.to ? { asOf: report.period.to } : {}),
  };
}

/** Reads the pacer state every this many polls. */
const PACER_EVERY = 5;

async function watch(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const api = new RelayApi(await ctx.connect());
  const intervalMs = secondsOption(ctx.values, 'interval', 'watch', 2000);
  const window = intOption(ctx.values, 'limit', 'watch', 1) ?? 100;
  const live = new LiveLine(out);
  const known = new Map<string, ApiJob>();
  let first = true;
  let tick = 0;
  let pacer: string | undefined;
  let down = false;
  /** Whether the relay has `GET /status` (the live pacer); undefined until known. */
  let statusRoute: boolean | undefined;
  for (; ; tick++) {
    let page: { jobs: ApiJob[] };
    // Requests this tick, to keep under the per-token limit (see MIN_REQUEST_SPACING_MS).
    let requests = 1;
    let pacerNews: string | undefined;
    try {
      page = await api.request<{ jobs: ApiJob[] }>({
        path: '/jobs',
        query: { limit: Math.min(100, window) },
      });
      if (tick % PACER_EVERY === 0) {
        requests++;
        const { view, asOf, live: fromStatus } = await readPacer(api, statusRoute);
        statusRoute = fromStatus;
        const next = pacerText(view, asOf, out);
        if (next !== pacer) {
          // Printed after this tick's job lines.
          pacerNews = out.json
            ? JSON.stringify({ type: 'pacer', pacer: view ?? null })
            : (next ?? (pacer ? out.paint.green('1fichier calls resumed') : undefined));
          pacer = next;
        }
      }
      if (down && !out.json) live.print(out.paint.green('relay reachable again'));
      down = false;
    } catch (err) {
      // A relay restarting is not the end of watching: say so and keep trying. Auth and usage errors end it.
      if (err instanceof CliError && err.exitCode === EXIT.rateLimited) {
        if (!out.json) live.print(out.paint.yellow('rate limited by the relay; slowing down'));
        if (await sleep(Math.max(intervalMs, err.retryAfterMs ?? 10_000), ctx.signal)) {
          live.clear();
          return EXIT.ok;
        }
        continue;
      }
      if (!(err instanceof CliError) || err.exitCode !== EXIT.unreachable) throw err;
      if (!down) {
        if (out.json) out.line(JSON.stringify({ type: 'unreachable', message: err.message }));
        else live.print(out.paint.red(`${err.message}; retrying (Ctrl-C stops)`));
      }
      down = true;
      if (await sleep(intervalMs, ctx.signal)) {
        live.clear();
        return EXIT.ok;
      }
      continue;
    }
    const events: ApiJob[] = [];
    for (const j of page.jobs) {
      const before = known.get(j.id);
      if (!before || before.status !== j.status) events.push(j);
      known.set(j.id, j);
    }
    const counts = countsOf(page.jobs);
    if (out.json) {
      if (first) out.line(JSON.stringify({ type: 'counts', window: page.jobs.length, counts }));
      else {
        for (const j of events.reverse()) out.line(JSON.stringify({ type: 'change', job: j }));
        if (events.length) out.line(JSON.stringify({ type: 'counts', window: page.jobs.length, counts }));
      }
      if (pacerNews) out.line(pacerNews);
    } else {
      const recent = first
        ? [...page.jobs].sort((a, b) => (a.updatedAt ?? '').localeCompare(b.updatedAt ?? '')).slice(-5)
        : events.reverse();
      if (first) out.line(out.paint.bold(`Latest ${page.jobs.length} job(s): ${countsText(counts, out)}`));
      for (const j of recent) {
        live.print(
          `${formatTime(j.updatedAt ?? new Date().toISOString())}  ${j.id}  ${statusWord(j.status, out.paint)} ${j.url}`,
        );
        const extra =
          j.status === 'failed' ? j.error?.message : j.status === 'done' ? j.fileUrl : j.waitReason;
        if (extra) live.print(`          ${out.paint.dim(extra)}`);
      }
      if (pacerNews) live.print(pacerNews);
      if (!out.tty && !first && events.length) out.line(`counts: ${countsText(counts, out)}`);
      live.update(
        `${countsText(counts, out)}  ${out.paint.dim(`(latest ${page.jobs.length}; Ctrl-C stops)`)}`,
      );
    }
    first = false;
    if (await sleep(Math.max(intervalMs, requests * MIN_REQUEST_SPACING_MS), ctx.signal)) {
      live.clear();
      return EXIT.ok;
    }
  }
}

const followOpts = {
  interval: { type: 'string', value: '<seconds>', description: 'how often to poll (default 1)' },
} as const;

/** The job commands. */
export const jobCommands: CommandSpec[] = [
  {
    name: 'submit',
    summary: 'Submit URLs to be uploaded to 1fichier.',
    args: '<url…|->',
    details:
      'URLs come from the arguments, from stdin with `-`, and from --file (one per line; blank lines and # comments skipped).\n' +
      'Every URL is checked first as the API checks it; if one is invalid nothing is submitted.\n' +
      'A URL already submitted to the same folder is a duplicate (its job is shown); a failed one is retried.\n' +
      'With --follow the command waits until every job is done or failed, and exits 1 if one failed.\n' +
      '--dry-run creates nothing: it validates, and says for each URL whether a job would be created, is a\n' +
      'duplicate, or would be retried, by computing the job id as the relay does and asking GET /jobs/<id>.',
    options: {
      file: {
        type: 'string',
        short: 'f',
        value: '<path>',
        description: 'read URLs from a file, one per line',
      },
      folder: {
        type: 'string',
        value: '<Path/To/Folder>',
        description: '1fichier folder to upload into (created if missing)',
      },
      follow: { type: 'boolean', description: 'show live progress until every job has ended' },
      'dry-run': {
        type: 'boolean',
        short: 'n',
        description: 'validate and show what would be created or deduped; create nothing',
      },
      user: {
        type: 'string',
        value: '<id>',
        description: 'the token’s user id, for --dry-run’s dedupe check when it is not known',
      },
      ...followOpts,
    },
    run: submit,
  },
  {
    name: 'status',
    summary: 'Show one job: status, file link, why it waits, or why it failed.',
    args: '<id>',
    details: 'Exits 1 when the job failed.',
    run: status,
  },
  {
    name: 'jobs',
    summary: 'List your jobs, newest first.',
    options: {
      status: {
        type: 'string',
        value: '<status>',
        description: `only jobs in this status (${STATUSES.join(', ')})`,
      },
      limit: { type: 'string', value: '<n>', description: 'how many (default 20)' },
      cursor: { type: 'string', value: '<cursor>', description: 'continue a previous listing' },
    },
    run: list,
  },
  {
    name: 'watch',
    summary: 'Live counts and recent job events, until Ctrl-C.',
    details:
      'Counts are over your latest jobs (--limit, at most 100). With --json: one JSON object per line.',
    options: {
      ...followOpts,
      interval: { ...followOpts.interval, description: 'how often to poll (default 2)' },
      limit: { type: 'string', value: '<n>', description: 'how many recent jobs to count (default 100)' },
    },
    run: watch,
  },
  {
    name: 'retry',
    summary: 'Retry failed jobs.',
    args: '<id…>',
    details:
      'With --failed, every failed job retrying can help (the API’s `retryable`); give an id to force one that says it will not.',
    options: { failed: { type: 'boolean', description: 'retry every failed job that retrying can help' } },
    run: retry,
  },
];
