/** `relay circuit reset` and `relay report`: `POST /admin/circuit/reset`, `GET /reports/latest`, `GET /reports?limit=`. */
import { listOf, RelayApi } from '../api.js';
import { type CommandContext, type CommandSpec, intOption } from '../args.js';
import { EXIT, usageError } from '../errors.js';
import { formatDuration, formatTime, type Out } from '../output.js';

interface ResetAnswer {
  circuit: string;
  wasOpen: boolean;
  reason?: string;
  pausedUntil: string | null;
  requeued: number;
}

async function circuitReset(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length) throw usageError('`circuit reset` takes no arguments', 'circuit reset');
  const api = new RelayApi(await ctx.connect());
  const r = await api.request<ResetAnswer>({ method: 'POST', path: '/admin/circuit/reset' });
  if (ctx.out.json) ctx.out.printJson(r);
  else {
    ctx.out.line(
      r.wasOpen
        ? `Circuit closed (it was open: ${r.reason ?? 'no reason recorded'}). Calls to 1fichier resume.`
        : 'Circuit closed (it was not open).',
    );
    if (r.pausedUntil) ctx.out.line(`A pause until ${formatTime(r.pausedUntil)} was ended.`);
    ctx.out.line(`${r.requeued} waiting job(s) sent again.`);
  }
  return EXIT.ok;
}

interface Report {
  period: { from: string | null; to: string };
  counts: Record<string, number>;
  completed: { id: string; url: string; fileUrl: string }[];
  failures: { id: string; url: string; error: { code: string; message: string } }[];
  pacer: { pausedUntil?: number; circuitOpen?: boolean; circuitReason?: string; floodCount?: number } | null;
  calls?: { ls: number; info: number };
}

function printReport(out: Out, r: Report): void {
  out.line(
    out.paint.bold(
      `Report ${r.period.from ? `${formatTime(r.period.from)} → ` : 'up to '}${formatTime(r.period.to)}`,
    ),
  );
  out.line(
    `  ${Object.entries(r.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ')}`,
  );
  const now = Date.now();
  if (r.pacer?.circuitOpen)
    out.line(
      out.paint.red(
        `  1fichier circuit OPEN: ${r.pacer.circuitReason ?? ''} (fix the key, then \`relay circuit reset\`)`,
      ),
    );
  if (r.pacer?.pausedUntil && r.pacer.pausedUntil > now)
    out.line(
      out.paint.yellow(`  calls paused for ${formatDuration(r.pacer.pausedUntil - now)} (flood answer)`),
    );
  for (const c of r.completed.slice(0, 10))
    out.line(`  ${out.paint.green('done')}    ${c.url} → ${c.fileUrl}`);
  if (r.completed.length > 10) out.line(`  … and ${r.completed.length - 10} more done`);
  for (const f of r.failures.slice(0, 10))
    out.line(`  ${out.paint.red('failed')}  ${f.url}: ${f.error.code}: ${f.error.message}`);
  if (r.failures.length > 10)
    out.line(`  … and ${r.failures.length - 10} more failed (relay jobs --status failed)`);
}

async function report(ctx: CommandContext): Promise<number> {
  const api = new RelayApi(await ctx.connect());
  const limit = intOption(ctx.values, 'limit', 'report', 1);
  const scope = ctx.values.all ? 'all' : undefined;
  if (limit !== undefined) {
    const res = await api.request<unknown>({ path: '/reports', query: { limit, scope } });
    if (ctx.out.json) ctx.out.printJson(res);
    else for (const r of listOf<Report>(res, 'reports')) printReport(ctx.out, r);
    return EXIT.ok;
  }
  const r = await api.request<Report | undefined>({
    path: '/reports/latest',
    query: { scope },
    allow404: true,
  });
  if (!r) {
    if (ctx.out.json) ctx.out.printJson(null);
    else ctx.out.line('No report yet: none of your jobs has ended since the relay started.');
    return EXIT.ok;
  }
  if (ctx.out.json) ctx.out.printJson(r);
  else printReport(ctx.out, r);
  return EXIT.ok;
}

/** The admin and report commands. */
export const adminCommands: CommandSpec[] = [
  {
    name: 'circuit reset',
    summary:
      'Close the 1fichier auth circuit and end any pause, after fixing the key; waiting jobs are sent again.',
    run: circuitReset,
  },
  {
    name: 'report',
    summary: 'Show your latest report (files done, failures, pacer state), or the last few with --limit.',
    options: {
      limit: { type: 'string', value: '<n>', description: 'the last n reports (GET /reports?limit=)' },
      all: { type: 'boolean', description: 'the relay-wide report (admin token)' },
    },
    run: report,
  },
];
