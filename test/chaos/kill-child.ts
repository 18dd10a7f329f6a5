/**
 * Child process of `kill.test.ts`: starts the local runtime, keeps the API and the worker busy, calls
 * `kill()` in the middle, and exits 0 if the process survived it (an uncaught exception exits non-zero).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSourceServer } from '../../bench/lib/source-server.js';
import { startRuntime } from '../../infra/local/runtime.js';
import { startSandbox } from '../../infra/sandbox/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'relay-kill-'));
const source = await startSourceServer();
const sandbox = await startSandbox({ port: 0, rate: 1000 });
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const rt = await startRuntime({
  port: 0,
  dataDir,
  token: 'kill-test-token-0123456789',
  sandbox,
  minIntervalMs: 10,
  pollIntervalMs: 200,
  receiveWaitSeconds: 1,
  logger: quiet as never,
});
const post = (i: number) =>
  fetch(`${rt.baseUrl}/jobs`, {
    method: 'POST',
    headers: { authorization: 'Bearer kill-test-token-0123456789', 'content-type': 'application/json' },
    body: JSON.stringify({ urls: Array.from({ length: 20 }, (_, k) => source.fileUrl(`k${i}-${k}`)) }),
  }).catch(() => undefined);
for (let i = 0; i < 5; i++) await post(i);
// Requests in flight at the moment of the kill: the API's writes, the worker's claims, the poller's reads.
const inFlight = Array.from({ length: 20 }, (_, i) => post(100 + i));
await new Promise((r) => setTimeout(r, 30));
await rt.kill();
await Promise.allSettled(inFlight);
await new Promise((r) => setTimeout(r, 1_500));
await sandbox.close();
await source.close();
rmSync(dataDir, { recursive: true, force: true });
console.log('survived');
process.exit(0);
