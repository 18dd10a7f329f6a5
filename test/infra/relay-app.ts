import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../infra/cdk/build-app.js';
import type { RelayStack } from '../../infra/cdk/relay-stack.js';

/** Repository root (tests run from anywhere). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The context `cdk.json` gives the CLI (feature flags and `relay:*` settings). */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')).context;
}

/** A built relay app and its stack's template. */
export interface BuiltRelay {
  app: App;
  stack: RelayStack;
  template: Template;
}

/**
 * Builds the app as `cdk synth` would (same cdk.json context), without esbuild bundling
 * (`aws:cdk:bundling-stacks: []`: assets are not built, the template is otherwise the same).
 */
export function buildRelay(overrides: Record<string, unknown> = {}): BuiltRelay {
  // Without an outdir each App leaves a cdk.outXXXX directory in the system temp folder.
  const outdir = mkdtempSync(join(tmpdir(), 'relay-cdk-test-'));
  const { app, stack } = buildApp({
    outdir,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...overrides },
  });
  const template = Template.fromStack(stack);
  // The template is in memory now; the synthesized files are not read again.
  rmSync(outdir, { recursive: true, force: true });
  return { app, stack, template };
}

/** Logical id of an L2 construct's CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  const stack = (construct as { stack?: RelayStack }).stack;
  const child = construct.node.defaultChild;
  if (!stack || !child) throw new Error(`no CloudFormation resource under ${construct.node.path}`);
  return stack.getLogicalId(child as never);
}

/**
 * cdk-nag finding ids acknowledged on a construct or any of its ancestors, with their reasons
 * (what `Validations.of(x).acknowledge()` recorded, read the way cdk-nag reads it).
 */
export function acknowledgments(construct: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (let current: IConstruct | undefined = construct; current; current = current.node.scope) {
    for (const entry of current.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.set(id.replace(/^annotation::/i, ''), reason);
      }
    }
  }
  return found;
}

/** Finds the construct whose CloudFormation logical id is `id`. */
export function constructByLogicalId(stack: RelayStack, id: string): IConstruct {
  const match = stack.node
    .findAll()
    .find(
      (c) => (c as { cfnResourceType?: string }).cfnResourceType && stack.getLogicalId(c as never) === id,
    );
  if (!match) throw new Error(`no construct with logical id ${id}`);
  return match;
}
