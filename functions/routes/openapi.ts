/**
 * `GET /openapi.json` (no auth): the OpenAPI 3.1 document of every route, built from the route modules'
 * descriptions (shared/http/openapi.ts says how a module adds its routes).
 */
import type { Env, Hono } from 'hono';
import { ApiDocs } from '../../shared/http/openapi.js';
import { documentCoreRoutes } from './core-docs.js';
import { documentFeedRoutes } from './feeds.js';
import { documentNotifyRoutes } from './notify-docs.js';
import { documentTokenRoutes } from './tokens.js';
import { documentWebRoutes } from './web.js';

/** The API contract's version (package.json's; shared/net's constant would bring the outbound client along). */
const API_VERSION = '0.1.0';

/**
 * A new document of every route: the core routes and each route module's, which the module describes
 * beside its routes (`document…Routes`). Complete without an app, so API Gateway's route list
 * (infra/cdk/api.ts) can be checked against it.
 */
export function createApiDocs(): ApiDocs {
  const docs = new ApiDocs({
    title: 'fichier-relay',
    version: API_VERSION,
    description:
      'Turns webhook calls, IFTTT applets, Zapier zaps and scripts into tracked 1fichier remote uploads. ' +
      'Errors are `{"error":{"code","message"}}` with a 4xx status.',
  });
  documentCoreRoutes(docs);
  documentTokenRoutes(docs);
  documentFeedRoutes(docs);
  documentWebRoutes(docs);
  documentNotifyRoutes(docs);
  return docs;
}

/**
 * Serves the document, built by the first request for it (an instance that never serves it never builds
 * its schemas). Public: it holds no secret, and integrations (Zapier, Make, n8n) read it first.
 */
export function registerOpenApiRoute<E extends Env>(app: Hono<E>, makeDocs: () => ApiDocs): void {
  let docs: ApiDocs | undefined;
  app.get('/openapi.json', (c) => {
    docs ??= makeDocs();
    return c.json(docs.document());
  });
}
