import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApiDocs, registerOpenApiRoute } from '../../../functions/routes/openapi.js';

describe('GET /openapi.json', () => {
  it('builds the document on the first request for it, once, never when the app is created', async () => {
    let built = 0;
    const app = new Hono();
    registerOpenApiRoute(app, () => {
      built += 1;
      return createApiDocs();
    });
    expect(built).toBe(0);
    const first = await app.request('/openapi.json');
    expect(first.status).toBe(200);
    expect(((await first.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
    await app.request('/openapi.json');
    expect(built).toBe(1);
  });
});
