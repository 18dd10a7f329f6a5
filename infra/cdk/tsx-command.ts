/**
 * A shell command that runs one of the project's TypeScript scripts with this Node and the project's tsx,
 * for the CDK's `afterBundling` hooks (local bundling runs them from the project root, offline).
 */

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** `'<node>' --import tsx '<script>' '<arg>'…`, every part quoted for the shell. */
export function tsxCommand(script: string, ...args: string[]): string {
  return [quote(process.execPath), '--import', 'tsx', quote(script), ...args.map(quote)].join(' ');
}
