/** The 405 answer of every route module: `Allow` and a JSON error naming the methods to use. */
import type { Context, Hono } from 'hono';
import { errorBody } from '../../shared/http/errors.js';

/** A handler answering 405 for any method but `allowed` (e.g. `"GET, POST"`). */
export const methodNotAllowed = (allowed: string) => (c: Context) => {
  c.header('Allow', allowed);
  return c.json(errorBody('methodNotAllowed', `use ${allowed}`), 405);
};

const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Answers 405 on every route path for the methods it does not serve, derived from the app's own route
 * table: called once after every route is registered, so a new route gets its 405 without a list to keep.
 * A path whose 405 must come before a parameter route (`/feeds/preview` before `/feeds/:id`) registers
 * its own early; the one added here is then never reached.
 */
// biome-ignore lint/suspicious/noExplicitAny: any app's environment
export function answerOtherMethods(app: Hono<any>): void {
  const served = new Map<string, Set<string>>();
  for (const r of app.routes) {
    // `use` middleware is listed as ALL.
    if (r.path.includes('*') || r.method === 'ALL') continue;
    served.set(r.path, (served.get(r.path) ?? new Set()).add(r.method));
  }
  for (const [path, methods] of served) {
    const allowed = METHOD_ORDER.filter((m) => methods.has(m)).join(', ');
    app.all(path, methodNotAllowed(allowed));
  }
}
