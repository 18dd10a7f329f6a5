/**
 * JSON request bodies: one parse and one schema check for every route, with the same 400 answers
 * (`invalidJson` for text that is not JSON, `invalidBody` naming the first issue and where it is).
 */
import type * as z from 'zod/mini';
import { HttpError } from './errors.js';

/** `text` as JSON, or a 400 `invalidJson`. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalidJson', 'body is not valid JSON');
  }
}

/**
 * `text` as JSON checked by `schema`; a 400 `invalidBody` starts with `expected` (what a valid body looks
 * like), then where the first issue is and what it is.
 */
export function parseJsonBody<T>(schema: z.ZodMiniType<T>, text: string, expected: string): T {
  const parsed = schema.safeParse(parseJsonText(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new HttpError(400, 'invalidBody', `${expected}${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
