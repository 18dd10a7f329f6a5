/**
 * `npm run chaos`: the chaos scenario with 1,000 jobs (CHAOS_JOBS to change it, CHAOS_SEED to replay
 * one run, CHAOS_DEADLINE_S to bound it, CHAOS_KILL=0 to make the second restart a clean stop instead of
 * a kill()). Prints the timeline and the invariants; exits 1 when one fails.
 */
import { formatInvariants, runChaos } from './scenario.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

const result = await runChaos({
  jobs: envInt('CHAOS_JOBS', 1000),
  deadlineMs: envInt('CHAOS_DEADLINE_S', 900) * 1000,
  ...(process.env.CHAOS_SEED ? { seed: envInt('CHAOS_SEED', 1) } : {}),
  kill: process.env.CHAOS_KILL !== '0',
  log: (line) => console.log(line),
});
console.log('');
console.log(`jobs: ${JSON.stringify(result.counts)}`);
console.log(`injected: ${JSON.stringify(result.injected)}`);
console.log(`sandbox: ${JSON.stringify(result.sandbox)}`);
console.log(`elapsed: ${(result.elapsedMs / 1000).toFixed(1)} s`);
console.log('');
console.log(formatInvariants(result));
process.exitCode = result.ok ? 0 : 1;
