/**
 * `GET /openapi.json`: public, OpenAPI 3.1, lists every route the app serves (methods and paths, from
 * hono's own route table), and every example it documents is accepted by the schema and by the route.
 * Real HTTP over the hono app on dynalite and fauxqs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createApiApp } from '../../functions/api.js';
import { createApiDocs } from '../../functions/routes/openapi.js';
import type { Deps } from '../../shared/app/deps.js';
import { createNotifyServices } from '../../shared/app/notify-deps.js';
import { formBodyFields, jobBodySchemas } from '../../shared/http/job-input.js';
import { ApiDocs, openApiPath } from '../../shared/http/openapi.js';
import { aesGcmCipher } from '../../shared/notify/cipher.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness } from '../support/engines-pipeline.js';

let aws: TestAws;
let deps: Deps;
let app: ReturnType<typeof createApiApp>;
const TOKEN = 'fr_openapi-alice';

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        security: unknown[];
        parameters?: { name: string; in: string }[];
        requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> };
      }
    >
  >;
}
let doc: Doc;

beforeAll(async () => {
  aws = await startTestAws();
  const config = await aws.fresh();
  const h = harness(config);
  deps = h.deps;
  // Notification targets and REST hooks seal their secrets: a key, as the deployed relay has one.
  const key = randomBytes(32);
  deps.notify = createNotifyServices(config, aws.doc, h.clock, { cipher: aesGcmCipher(async () => key) });
  await registerToken(deps.tokens, { token: TOKEN, userId: 'alice', scope: 'admin' }, Date.now());
  app = createApiApp(deps);
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
});
afterAll(async () => {
  await aws?.close();
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('GET /openapi.json', () => {
  it('is served without a token, as an OpenAPI 3.1 document with the token schemes', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const full = doc as unknown as { components: { securitySchemes: Record<string, unknown> } };
    expect(Object.keys(full.components.securitySchemes).sort()).toEqual([
      'apiKeyAuth',
      'basicAuth',
      'bearerAuth',
    ]);
    expect(doc.paths['/jobs']?.post?.security.length).toBeGreaterThan(0);
    expect(doc.paths['/health']?.get?.security).toEqual([]);
  });

  it("documents every method and path of hono's route table (`:id` as `{id}`)", () => {
    const served = new Set(
      app.routes
        .filter((r) => METHODS.includes(r.method.toLowerCase()))
        .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`),
    );
    expect(served.size).toBeGreaterThan(5);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
    );
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    // And nothing documented that the app does not serve.
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });

  it('declares every path parameter of each path', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared.sort(), path).toEqual(names.sort());
      }
    }
  });

  it('describes the JSON body with the schema that validates it', () => {
    const body = doc.paths['/jobs']?.post?.requestBody?.content['application/json'] as unknown as {
      schema: unknown;
    };
    const expected = z.toJSONSchema(jobBodySchemas().json, {
      target: 'draft-2020-12',
      io: 'input',
    }) as Record<string, unknown>;
    delete expected.$schema;
    expect(body.schema).toEqual(expected);
  });

  it('every documented example body is accepted by the route (and by its schema)', async () => {
    let sent = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [type, content] of Object.entries(op.requestBody?.content ?? {})) {
          for (const [name, example] of Object.entries(content.examples ?? {})) {
            const url = path.replace('{token}', TOKEN);
            const body = typeof example.value === 'string' ? example.value : JSON.stringify(example.value);
            const res = await app.request(url, {
              method: method.toUpperCase(),
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
              body,
            });
            expect(res.status, `${method} ${path} ${type} ${name}: ${await res.clone().text()}`).toBeLessThan(
              300,
            );
            sent++;
          }
        }
      }
    }
    expect(sent).toBeGreaterThanOrEqual(12);
  });

  it('every documented example query is accepted by the route', async () => {
    const examples = createApiDocs()
      .operations()
      .flatMap((op) => Object.values(op.queryExamples ?? {}).map((query) => ({ path: op.path, query })));
    expect(examples.length).toBeGreaterThan(0);
    for (const { path, query } of examples) {
      const res = await app.request(`${path}?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, `${path}?${query}`).toBe(200);
    }
  });

  it('every documented JSON example parses with the schema the document shows for it', () => {
    let checked = 0;
    for (const op of createApiDocs().operations()) {
      for (const [type, content] of Object.entries(op.body ?? {})) {
        for (const [name, example] of Object.entries(content.examples ?? {})) {
          const value =
            type === 'application/x-www-form-urlencoded' ? formBodyFields(String(example)) : example;
          expect(z.safeParse(content.schema, value).success, `${op.path} ${type} ${name}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('a route documented twice is refused', () => {
    const docs = new ApiDocs({ title: 't', version: '1' });
    const op = { method: 'get', path: '/x', summary: 'x', auth: 'none', responses: {} } as const;
    docs.add(op);
    expect(() => docs.add(op)).toThrow(/documented twice/);
  });
});
