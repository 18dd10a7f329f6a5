/**
 * The requests docs/recipes.md tells people to configure, sent exactly as IFTTT, Zapier, GitHub Actions
 * and Shortcuts send them, are accepted; the Zapier polling trigger gets the array it expects. Real HTTP
 * semantics over the hono app on dynalite and fauxqs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import type { Deps } from '../../shared/app/deps.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { repoRoot } from '../infra/relay-app.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness } from '../support/engines-pipeline.js';

let aws: TestAws;
let deps: Deps;
let app: ReturnType<typeof createApiApp>;
const TOKEN = 'fr_recipes-token';
const recipes = readFileSync(join(repoRoot, 'docs/recipes.md'), 'utf8');

beforeAll(async () => {
  aws = await startTestAws();
  ({ deps } = harness(await aws.fresh()));
  await registerToken(deps.tokens, { token: TOKEN, userId: 'recipes-user' }, Date.now());
  app = createApiApp(deps);
});
afterAll(async () => {
  await aws?.close();
});

const post = (path: string, type: string, body: string, headers: Record<string, string> = {}) =>
  app.request(path, { method: 'POST', headers: { 'content-type': type, ...headers }, body });

describe('docs/recipes.md requests', () => {
  it('IFTTT: text/plain body with the ingredient, token in the path', async () => {
    expect(recipes).toContain('`https://relay.example.net/hooks/fr_TOKEN`');
    const res = await post(`/hooks/${TOKEN}`, 'text/plain', 'https://example.com/ifttt/entry.zip');
    expect(res.status).toBe(202);
  });

  it('IFTTT: the JSON variant with a folder', async () => {
    expect(recipes).toContain('`{"url": "{{EntryUrl}}", "folder": "IFTTT"}`');
    const body = '{"url": "{{EntryUrl}}", "folder": "IFTTT"}'.replace(
      '{{EntryUrl}}',
      'https://example.com/i.zip',
    );
    const res = await post(`/hooks/${TOKEN}`, 'application/json', body);
    expect(res.status).toBe(202);
    const { jobs } = (await res.json()) as { jobs: { id: string }[] };
    expect((await deps.store.getJob(jobs[0]!.id))?.folder).toBe('IFTTT');
  });

  it('Zapier POST and the iOS Shortcut: JSON with a Bearer header', async () => {
    const res = await post(
      '/jobs',
      'application/json',
      '{"url": "https://example.com/file.zip", "folder": "Zapier"}',
      {
        authorization: `Bearer ${TOKEN}`,
      },
    );
    expect(res.status).toBe(202);
  });

  it('GitHub Actions: JSON with an Idempotency-Key, and a re-run gets the same job', async () => {
    const body = '{"url":"https://github.com/o/r/releases/download/v1/app.zip","folder":"Releases/r"}';
    const headers = { authorization: `Bearer ${TOKEN}`, 'idempotency-key': '1234567890' };
    const first = (await (await post('/jobs', 'application/json', body, headers)).json()) as {
      jobs: { id: string; duplicate: boolean }[];
    };
    const again = (await (await post('/jobs', 'application/json', body, headers)).json()) as {
      jobs: { id: string; duplicate: boolean }[];
    };
    expect(again.jobs[0]).toMatchObject({ id: first.jobs[0]!.id, duplicate: true });
  });

  it('Zapier polling: Basic auth with any user name and the token gets a bare JSON array', async () => {
    expect(recipes).toContain('`https://relay.example.net/jobs?status=done&format=array`');
    const res = await app.request('/jobs?status=done&format=array', {
      headers: { authorization: `Basic ${Buffer.from(`zapier:${TOKEN}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
  });
});
