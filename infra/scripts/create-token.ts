/**
 * Creates a client token in the configured table and prints it once (only its sha256 is stored). The
 * first token of a relay should be `admin` (the default here): it can then make tokens for other users
 * with `POST /tokens`. See `--help`.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTokenStore } from '../../shared/aws/dynamo-token-store.js';
import { ENV } from '../../shared/config/env-names.js';
import { issueToken } from '../../shared/tokens/manage.js';
import { InvalidTokenInputError, SCOPES } from '../../shared/tokens/model.js';

const HELP = `Usage: RELAY_TABLE_NAME=<table> AWS_REGION=<region> npx tsx infra/scripts/create-token.ts [options]

Creates a client token for the relay and prints it once (the table keeps only its sha256).

Options:
  --user <id>     the user the token acts for (1-64 of A-Z a-z 0-9 . _ @ -)   default: default
  --name <name>   a label shown by GET /tokens                                 default: first token
  --scope <s>     ${SCOPES.join(' | ')}                                  default: admin
  --signed        every request made with it must be signed (Standard Webhooks); prints its whsec_ secret
  -h, --help      this help

Scopes: admin ⊃ full ⊃ {submit, read}. admin can also create tokens for other users, reset the circuit
and read the relay-wide report; submit only creates jobs; read only reads.
`;

class UsageError extends Error {}

function options(argv: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        user: { type: 'string' },
        name: { type: 'string' },
        scope: { type: 'string' },
        signed: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
    // The former positional form `create-token.ts <userId>` still works.
    return { ...values, user: values.user ?? positionals[0] };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(argv);
  } catch (err) {
    process.stderr.write(`create-token: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const tableName = process.env[ENV.tableName]?.trim();
  if (!tableName) {
    process.stderr.write(
      `create-token: ${ENV.tableName} is required (the table name from the stack outputs)\n\n${HELP}`,
    );
    return 2;
  }
  const client = new DynamoDBClient({});
  try {
    const tokens = new DynamoTokenStore(DynamoDBDocumentClient.from(client), tableName);
    const issued = await issueToken(
      {
        name: opts.name ?? 'first token',
        scope: opts.scope ?? 'admin',
        signed: opts.signed ?? false,
        user: opts.user ?? 'default',
      },
      'operator',
      { tokens, clock: { now: () => Date.now() } },
    );
    const { record, token } = issued;
    process.stdout.write(
      `Token ${record.id} "${record.name}" for user "${record.userId}", scope ${record.scope} (shown once; store it now):\n${token}\n` +
        (issued.signingSecret ? `Signing secret (shown once): ${issued.signingSecret}\n` : '') +
        `\ncurl -X POST "$API_URL/jobs" -H "Authorization: Bearer ${token}" -H 'content-type: text/plain' --data 'https://example.com/file.iso'\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof InvalidTokenInputError) {
      process.stderr.write(`create-token: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  } finally {
    client.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`create-token: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
