/**
 * infra/scripts/create-token.ts as an operator runs it (a child process, over dynalite): `--help`, usage
 * errors exit 2 with the help, and the token it prints is stored as admin (the first token of a relay).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTokenStore } from '../../shared/aws/dynamo-token-store.js';
import { ENV } from '../../shared/config/env-names.js';
import { hashToken } from '../../shared/jobs/ids.js';
import { startTestAws, type TestAws } from '../support/engines.js';

let aws: TestAws;
let tableName: string;
const script = resolve(import.meta.dirname, '../../infra/scripts/create-token.ts');
const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');

beforeAll(async () => {
  aws = await startTestAws();
  ({ tableName } = await aws.fresh());
});
afterAll(async () => {
  await aws?.close();
});

function run(args: string[], table: string | undefined = tableName) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    const env = { ...process.env, [ENV.tableName]: table ?? '' };
    execFile(tsx, [script, ...args], { env }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('create-token.ts', () => {
  it('prints a real --help and exits 0', async () => {
    const out = await run(['--help']);
    expect(out.code).toBe(0);
    for (const option of ['--user', '--name', '--scope', '--signed']) expect(out.stdout).toContain(option);
  });

  it('exits 2 with the help on an unknown option, a bad scope or a missing table', async () => {
    for (const [args, table] of [
      [['--bogus']],
      [['--scope', 'root']],
      [['--user', '../x']],
      [[], ''],
    ] as const) {
      const out = await run([...args], table);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toContain('Usage:');
    }
  });

  it('stores an admin token by default and prints it once', async () => {
    const out = await run(['--user', 'ops', '--name', 'first']);
    expect(out.code, out.stderr).toBe(0);
    const token = /^(fr_\S+)$/m.exec(out.stdout)?.[1] ?? '';
    const stored = await new DynamoTokenStore(aws.doc, tableName).tokenByHash(hashToken(token));
    expect(stored).toMatchObject({ userId: 'ops', name: 'first', scope: 'admin', signed: false });
  });

  it('makes a token of the scope asked, signed with a whsec_ secret when asked', async () => {
    const out = await run(['--user', 'ops', '--name', 'ci', '--scope', 'submit', '--signed']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/Signing secret \(shown once\): whsec_/);
    const token = /^(fr_\S+)$/m.exec(out.stdout)?.[1] ?? '';
    const stored = await new DynamoTokenStore(aws.doc, tableName).tokenByHash(hashToken(token));
    expect(stored).toMatchObject({ scope: 'submit', signed: true });
  });
});
