/**
 * API Gateway routes every operation of the OpenAPI document, which the app's own route table is checked
 * against (test/integration/openapi.test.ts): a route added to the app but not to API_ROUTES would work
 * under `npm start` and answer 404 in AWS.
 */
import { describe, expect, it } from 'vitest';
import { createApiDocs } from '../../functions/routes/openapi.js';
import { API_ROUTES } from '../../infra/cdk/api.js';

describe('API Gateway routes', () => {
  it('cover every documented operation, and nothing else', () => {
    const routed = API_ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    const documented = createApiDocs()
      .operations()
      .map((op) => `${op.method.toUpperCase()} ${op.path}`)
      .sort();
    expect(routed).toEqual(documented);
  });
});
