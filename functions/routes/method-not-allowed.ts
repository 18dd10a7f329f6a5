/** The 405 answer of every route module: `Allow` and a JSON error naming the methods to use. */
import type { Context } from 'hono';
import { errorBody } from '../../shared/http/errors.js';

/** A handler answering 405 for any method but `allowed` (e.g. `"GET, POST"`). */
export const methodNotAllowed = (allowed: string) => (c: Context) => {
  c.header('Allow', allowed);
  return c.json(errorBody('methodNotAllowed', `use ${allowed}`), 405);
};
