/**
 * The Node/V8 flags the local runtime runs with: `npm start` (package.json) and the pipeline benchmark's
 * child (`bench/pipeline.ts`) pass these, so the memory the bench reports is the product's.
 * `test/infra/node-flags.test.ts` checks that the `start` script carries exactly these.
 *
 * Why (docs/performance.md, "Memory"): the runtime's live heap is ~40–50 MiB, but V8 lets the old
 * generation grow to a multiple of what survived the last full GC before it collects again, up to 4× on a
 * machine whose heap limit is large, so a burst of requests (a 2,000-URL run) left ~110 MiB of garbage
 * in old space. A 1.5× growing factor keeps it near 1.5× the live heap for ~20 % more CPU in the bursts.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = [
  // Young generation: semispaces of at most 4 MiB instead of 16 MiB under allocation bursts.
  '--max-semi-space-size=4',
  // Old generation: the next full GC at 1.5× the heap that survived the last one.
  '--heap-growing-percent=50',
];
