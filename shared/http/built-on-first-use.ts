/**
 * A value built the first time it is asked for, then kept. Module-level zod schemas are built at import,
 * so every cold start of a function paid for the schemas of routes its first request never takes (about
 * 0.05 ms per schema call; the API has a few hundred). Wrapped in this, a schema costs only the requests
 * that parse with it.
 */
export function builtOnFirstUse<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
