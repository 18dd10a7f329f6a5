/**
 * The OpenAPI 3.1 document served at `GET /openapi.json`, built from the same zod schemas that validate
 * requests, so the document cannot drift from what the API accepts.
 *
 * zod's own `toJSONSchema` converts the `zod/mini` schemas (JSON Schema 2020-12 is the dialect OpenAPI 3.1
 * uses). `@hono/zod-openapi` would need zod's classic API, which costs about 440 KiB in the API bundle
 * (docs/performance.md), so routes are described here as plain data instead.
 *
 * How a route module documents its routes: beside its `app.post('/tokens', …)`, add
 * ```ts
 * docs.add({ method: 'post', path: '/tokens', summary: 'Create a token', auth: 'token',
 *   body: { 'application/json': { schema: tokenInputSchema, examples: { read: { name: 'zapier', scope: 'read' } } } },
 *   responses: { 201: { description: 'the token, shown once', schema: tokenSchema } } });
 * ```
 * in the module's `document<Area>Routes(docs)`, which `createApiDocs()` (functions/routes/openapi.ts) calls
 * with the {@link ApiDocs} it builds. Paths use OpenAPI's
 * `{id}`, not hono's `:id`. Every example is sent to the app by test/integration/openapi.test.ts, which
 * also fails if a route the app serves is missing here.
 */
import * as z from 'zod/mini';

/** HTTP methods a route can be documented under. */
export type ApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** How a route authenticates: a client token in a header, the token in the path (`/hooks/{token}`), or none. */
export type ApiAuth = 'token' | 'pathToken' | 'none';

/** A schema as the document takes it: a zod (mini) schema. */
export type ApiSchema = z.core.$ZodType;

/** One parameter (query or path). */
export interface ApiParameter {
  schema: ApiSchema;
  description: string;
  required?: boolean;
}

/** One request body media type with its schema and named examples (each one must be accepted). */
export interface ApiBodyContent {
  schema: ApiSchema;
  /** Named example bodies: an object for JSON, a string for text and form bodies. */
  examples?: Record<string, unknown>;
}

/** One documented response. */
export interface ApiResponse {
  description: string;
  schema?: ApiSchema;
  headers?: Record<string, string>;
}

/** One operation: a method on a path. */
export interface ApiOperation {
  method: ApiMethod;
  /** OpenAPI form: `/jobs/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  auth: ApiAuth;
  query?: Record<string, ApiParameter>;
  /** Path parameters; each `{name}` in `path` needs one. */
  params?: Record<string, ApiParameter>;
  body?: Record<string, ApiBodyContent>;
  /** Named example query strings (without `?`), each one must be accepted. */
  queryExamples?: Record<string, string>;
  responses: Record<number, ApiResponse>;
}

/** Every error the API returns: `{"error":{"code","message"}}` with a 4xx (or 500) status. */
export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

type Json = Record<string, unknown>;

/** The operations of the API and the document built from them (once, on first use). */
export class ApiDocs {
  private readonly ops: ApiOperation[] = [];
  private built: Json | undefined;

  constructor(private readonly info: { title: string; version: string; description?: string }) {}

  /** Adds operations; returns `this` so a module can chain. */
  add(...ops: ApiOperation[]): this {
    for (const op of ops) {
      if (this.find(op.method, op.path)) throw new Error(`${op.method} ${op.path} is documented twice`);
      this.ops.push(op);
    }
    this.built = undefined;
    return this;
  }

  /** The operations added so far. */
  operations(): readonly ApiOperation[] {
    return this.ops;
  }

  /** The operation for a method and an OpenAPI path, if documented. */
  find(method: string, path: string): ApiOperation | undefined {
    return this.ops.find((o) => o.method === method.toLowerCase() && o.path === path);
  }

  /** The OpenAPI 3.1 document (built on first call: the API's cold start does not pay for it). */
  document(): Json {
    this.built ??= buildDocument(this.info, this.ops);
    return this.built;
  }
}

/** A JSON Schema for an OpenAPI 3.1 document: the input side (what a caller may send). */
function jsonSchema(schema: ApiSchema, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  // The dialect is the document's (jsonSchemaDialect below); each schema need not repeat it.
  delete out.$schema;
  return out;
}

function buildDocument(info: { title: string; version: string; description?: string }, ops: ApiOperation[]) {
  const paths: Record<string, Json> = {};
  for (const op of ops) {
    const parameters = [
      ...Object.entries(op.params ?? {}).map(([name, p]) => ({
        name,
        in: 'path',
        required: true,
        description: p.description,
        schema: jsonSchema(p.schema, 'input'),
      })),
      ...Object.entries(op.query ?? {}).map(([name, p]) => ({
        name,
        in: 'query',
        required: p.required === true,
        description: p.description,
        schema: jsonSchema(p.schema, 'input'),
      })),
    ];
    const operation: Json = {
      operationId: operationId(op),
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.tags ? { tags: op.tags } : {}),
      // Header tokens: any of the three schemes. The path token and public routes need none.
      security: op.auth === 'token' ? [{ bearerAuth: [] }, { apiKeyAuth: [] }, { basicAuth: [] }] : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: Object.fromEntries(
                Object.entries(op.body).map(([type, c]) => [
                  type,
                  {
                    schema: jsonSchema(c.schema, 'input'),
                    ...(c.examples
                      ? {
                          examples: Object.fromEntries(
                            Object.entries(c.examples).map(([k, value]) => [k, { value }]),
                          ),
                        }
                      : {}),
                  },
                ]),
              ),
            },
          }
        : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries(op.responses).map(([status, r]) => [
            status,
            {
              description: r.description,
              ...(r.headers
                ? {
                    headers: Object.fromEntries(
                      Object.entries(r.headers).map(([h, d]) => [
                        h,
                        { description: d, schema: { type: 'string' } },
                      ]),
                    ),
                  }
                : {}),
              ...(r.schema
                ? { content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } } }
                : {}),
            },
          ]),
        ),
        default: {
          description: 'an error: `{"error":{"code","message"}}` (4xx: the request changed nothing)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    paths[op.path] = { ...paths[op.path], [op.method]: operation };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info,
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, 'output') },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <token>' },
        apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description:
            'the token as the password (any user name), or as the user name with an empty password',
        },
      },
    },
  };
}

function operationId(op: ApiOperation): string {
  const words = op.path
    .split('/')
    .filter(Boolean)
    .map((s) =>
      s.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string) => (c ?? '').toUpperCase()),
    );
  return [op.method, ...words].map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

/** hono's `/jobs/:id` as OpenAPI's `/jobs/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
