/**
 * The OpenAPI description of the routes `createApiApp` registers itself (jobs, hooks, reports, admin,
 * health, the document). Request schemas are the ones that validate the requests (shared/http/job-input.ts);
 * response schemas describe what shared/http/present.ts and the routes return.
 */
import * as z from 'zod/mini';
import { jobBodySchemas, listQuerySchemas } from '../../shared/http/job-input.js';
import type { ApiBodyContent, ApiDocs } from '../../shared/http/openapi.js';
import { JOB_STATUSES } from '../../shared/jobs/model.js';
import { MAX_REPORTS_LISTED } from '../../shared/reports/store.js';

/** Adds the routes `createApiApp` serves itself. */
export function documentCoreRoutes(docs: ApiDocs): void {
  // Built here, not at import: only the first GET /openapi.json needs them (a cold start does not).
  const jobError = z.object({ code: z.string(), message: z.string() });

  /** A job as `GET /jobs/{id}` shows it (shared/http/present.ts). */
  const jobResponseSchema = z.object({
    id: z.string(),
    url: z.string(),
    status: z.enum(JOB_STATUSES),
    folder: z.string(),
    source: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    attempts: z.number(),
    remoteId: z.optional(z.number()),
    fileUrl: z.optional(z.string()),
    error: z.optional(jobError),
    callbackUrl: z.optional(z.string()),
  });

  /** The answer of `POST /jobs` and `POST /hooks/{token}`. */
  const enqueueResponseSchema = z.object({
    jobs: z.array(
      z.object({
        id: z.string(),
        url: z.string(),
        status: z.enum(JOB_STATUSES),
        duplicate: z.boolean(),
        retried: z.optional(z.boolean()),
      }),
    ),
  });

  const jobListSchema = z.object({ jobs: z.array(jobResponseSchema), next: z.optional(z.string()) });

  const reportSchema = z.looseObject({
    period: z.object({ from: z.nullable(z.string()), to: z.string() }),
    counts: z.record(z.string(), z.number()),
    completed: z.array(z.object({ id: z.string(), url: z.string(), fileUrl: z.string() })),
    failures: z.array(z.object({ id: z.string(), url: z.string(), error: jobError })),
  });

  const circuitResetSchema = z.object({
    circuit: z.literal('closed'),
    wasOpen: z.boolean(),
    reason: z.optional(z.string()),
    pausedUntil: z.nullable(z.string()),
    requeued: z.number(),
  });

  /** The bodies `POST /jobs` and `POST /hooks/{token}` accept, with examples a test sends to the app. */
  const jobBodies: Record<string, ApiBodyContent> = {
    'application/json': {
      schema: jobBodySchemas().json,
      examples: {
        oneUrl: { url: 'https://example.com/files/report.pdf' },
        withFolder: { url: 'https://example.com/files/video.mkv', folder: 'Videos/2026' },
        severalUrls: { urls: ['https://example.com/a.zip', 'https://example.com/b.zip'], folder: 'Archives' },
        arrayOfItems: [{ url: 'https://example.com/c.iso' }, 'https://example.com/d.iso'],
      },
    },
    'application/x-www-form-urlencoded': {
      schema: jobBodySchemas().form,
      examples: { form: 'url=https%3A%2F%2Fexample.com%2Ffiles%2Fphoto.jpg&folder=Photos' },
    },
    'text/plain': {
      schema: jobBodySchemas().text,
      examples: { lines: 'https://example.com/one.bin\nhttps://example.com/two.bin\n' },
    },
  };

  const jobsCreated = {
    202: {
      description:
        'queued (or found: `duplicate: true`; a failed job posted again is requeued: `retried: true`)',
      schema: enqueueResponseSchema,
      headers: { Location: '`/jobs/<id>` when the request created exactly one job' },
    },
  };

  const jobIdParam = { id: { schema: z.string().check(z.maxLength(64)), description: 'the job id' } };

  docs.add(
    {
      method: 'get',
      path: '/health',
      summary: 'Liveness',
      tags: ['meta'],
      auth: 'none',
      responses: { 200: { description: 'up', schema: z.object({ status: z.literal('ok') }) } },
    },
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This document',
      tags: ['meta'],
      auth: 'none',
      responses: { 200: { description: 'the OpenAPI 3.1 document' } },
    },
    {
      method: 'post',
      path: '/jobs',
      summary: 'Create upload jobs',
      description:
        'One job per URL. The same user posting the same URL to the same folder gets the existing job back. ' +
        'An `Idempotency-Key` header (1-255 printable ASCII characters) is accepted and echoed. ' +
        'Limits: 256 KB body, 500 URLs, 20 folders per request.',
      tags: ['jobs'],
      auth: 'token',
      body: jobBodies,
      responses: jobsCreated,
    },
    {
      method: 'post',
      path: '/hooks/{token}',
      summary: 'Create upload jobs, with the token in the path',
      description: 'For callers that cannot set headers (IFTTT, some Zapier steps). Only ever creates jobs.',
      tags: ['jobs'],
      auth: 'pathToken',
      params: { token: { schema: z.string(), description: 'a client token' } },
      body: jobBodies,
      responses: jobsCreated,
    },
    {
      method: 'get',
      path: '/jobs',
      summary: 'List your jobs, newest first',
      description:
        'With `format=array` the answer is a bare JSON array (what a Zapier polling trigger reads), and the ' +
        'next page is in a `Link` header.',
      tags: ['jobs'],
      auth: 'token',
      query: {
        status: { schema: listQuerySchemas().status, description: 'only jobs in this status' },
        limit: { schema: listQuerySchemas().limit, description: 'page size (default 50)' },
        cursor: { schema: listQuerySchemas().cursor, description: 'the `next` of the previous page' },
        format: { schema: listQuerySchemas().format, description: 'a bare array instead of `{jobs}`' },
      },
      queryExamples: { zapierFinished: 'status=done&format=array', firstTen: 'limit=10' },
      responses: {
        200: { description: '`{jobs, next?}`, or with `format=array` the bare array', schema: jobListSchema },
      },
    },
    {
      method: 'get',
      path: '/jobs/{id}',
      summary: 'One of your jobs',
      tags: ['jobs'],
      auth: 'token',
      params: jobIdParam,
      responses: { 200: { description: 'the job', schema: jobResponseSchema } },
    },
    {
      method: 'post',
      path: '/jobs/{id}/retry',
      summary: 'Requeue a failed job',
      description: 'Keeps its `attempts` and last `error`; 409 `notFailed` unless it failed.',
      tags: ['jobs'],
      auth: 'token',
      params: jobIdParam,
      responses: {
        202: {
          description: 'the job, back in `queued`',
          schema: jobResponseSchema,
          headers: { Location: '`/jobs/<id>`' },
        },
      },
    },
    {
      method: 'get',
      path: '/reports/latest',
      summary: 'Your latest report: your files and failures only',
      tags: ['reports'],
      auth: 'token',
      responses: { 200: { description: 'the report', schema: reportSchema } },
    },
    {
      method: 'get',
      path: '/reports',
      summary: 'Your recent reports, newest first',
      description: 'With `scope=all` (admin tokens only), the relay-wide reports instead.',
      tags: ['reports'],
      auth: 'token',
      query: {
        limit: {
          schema: z.string().check(z.regex(/^\d{1,3}$/)),
          description: `how many, 1 to ${MAX_REPORTS_LISTED} (default 10)`,
        },
        scope: { schema: z.literal('all'), description: 'the relay-wide reports (admin)' },
      },
      queryExamples: { lastFive: 'limit=5' },
      responses: {
        200: {
          description: 'the reports, newest first',
          schema: z.object({ reports: z.array(reportSchema) }),
        },
      },
    },
    {
      method: 'post',
      path: '/admin/circuit/reset',
      summary: 'Close the 1fichier auth circuit and end a pause',
      tags: ['admin'],
      auth: 'token',
      responses: { 200: { description: 'what was reset', schema: circuitResetSchema } },
    },
  );
}
