/**
 * `npm run sandbox`: the 1fichier sandbox alone, configured by the `SANDBOX_*` variables.
 * Prints its base URL, its keys (local test keys, never real ones) and a curl line; stops on SIGINT/SIGTERM.
 */
import { SandboxConfigError, sandboxOptionsFromEnv, startSandbox } from './server.js';

async function main(): Promise<void> {
  const sandbox = await startSandbox({
    ...sandboxOptionsFromEnv(process.env),
    log: (line) => console.log(`[sandbox] ${line}`),
  });
  console.log(`1fichier sandbox: ${sandbox.baseUrl}`);
  for (const { key, tier } of sandbox.keys.all) console.log(`  ${tier.padEnd(7)} key: ${key}`);
  console.log('Try:');
  console.log(
    `  curl -s -X POST ${sandbox.baseUrl}/remote/request.cgi -H 'Authorization: Bearer ${sandbox.keys.premium}' ` +
      `-H 'Content-Type: application/json' -d '{"urls":["https://example.com/"]}'`,
  );
  console.log(`  curl -s ${sandbox.origin}/_sandbox/stats`);
  console.log(`Use it from the relay: ONEFICHIER_API_URL=${sandbox.baseUrl}`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the sandbox`);
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof SandboxConfigError ? `Invalid configuration: ${err.message}` : err);
  process.exit(1);
});
