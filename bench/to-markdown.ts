/**
 * Prints `bench/results.json` (the saved figures) as Markdown tables, one per section, for
 * docs/performance.md: `npx tsx bench/to-markdown.ts [file]`, e.g. `bench/out/latest.json` for the last run.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, type Results } from './lib/report.js';

const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'results.json');
const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
console.log(
  `Run ${results.startedAt} → ${results.finishedAt} (${results.mode}), Node ${results.machine.node}, ` +
    `${results.machine.cpus} CPUs, params ${JSON.stringify(results.params)}\n`,
);
for (const section of [...new Set(results.rows.map((r) => r.section))]) {
  console.log(`### ${section}\n`);
  console.log(
    formatTable(
      results.rows.filter((r) => r.section === section),
      true,
    ),
  );
  const notes = results.rows.filter((r) => r.section === section && r.note);
  if (notes.length) console.log(`\n${notes.map((r) => `- ${r.metric}: ${r.note}`).join('\n')}`);
  console.log('');
}
