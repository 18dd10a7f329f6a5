/**
 * Closes the 1fichier auth circuit and ends any pause for the key in use, then sends the waiting jobs
 * again: the same as `POST /admin/circuit/reset`, for an operator with AWS credentials.
 *
 *   RELAY_TABLE_NAME=<table> RELAY_QUEUE_URL=<queue> ONEFICHIER_SECRET_ID=<secret> AWS_REGION=<region> \
 *     npx tsx infra/scripts/reset-circuit.ts
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/app/config.js';
import { createDeps } from '../../shared/app/deps.js';
import { resetCircuit } from '../../shared/jobs/circuit.js';

const USAGE = `Usage: npx tsx infra/scripts/reset-circuit.ts [--help]

Closes the 1fichier auth circuit of the key in use, ends any flood pause, and sends queued jobs again.
Reads RELAY_TABLE_NAME, RELAY_QUEUE_URL and ONEFICHIER_SECRET_ID (AWS) or ONEFICHIER_API_KEY (local),
the same variables the functions read (see the stack outputs).
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const deps = createDeps(loadConfig());
  const { keyId, before, requeued } = await resetCircuit(deps);
  process.stdout.write(
    `circuit closed for key ${keyId} (was ${before.circuitOpen ? `open: ${before.circuitReason ?? ''}` : 'closed'}); ` +
      `${requeued} queued job(s) sent again\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`reset-circuit: ${(err as Error).message}\n\n${USAGE}`);
  process.exitCode = 1;
});
