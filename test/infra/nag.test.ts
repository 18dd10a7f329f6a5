import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/cdk/build-app.js';
import { type BuiltRelay, buildRelay, cdkJsonContext } from './relay-app.js';

let built: BuiltRelay;

beforeAll(() => {
  built = buildRelay();
});

/** Every acknowledgment recorded in the app, with the construct it sits on. */
function allAcknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && m.data)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('finds no unacknowledged violation in the app', () => {
    const report = new AwsSolutionsChecks(built.app).validateScope(built.app);

    expect(
      report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only named findings, each with a reason, on the constructs concerned', () => {
    const acks = allAcknowledgments(built.app);
    const stackPath = built.stack.node.path;

    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id, ack.path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length, `${ack.id} on ${ack.path}`).toBeGreaterThanOrEqual(40);
      // No blanket suppression on the app or the whole stack.
      expect(ack.path, ack.id).not.toBe('');
      expect(ack.path, ack.id).not.toBe(stackPath);
    }
  });

  const DOCUMENTED = [
    'AwsSolutions-APIG4',
    'AwsSolutions-COG4',
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Resource::<table>/index/*]',
    'AwsSolutions-L1',
    'AwsSolutions-SMG4',
    'AwsSolutions-SQS3',
  ];
  const acknowledgedIds = (app: IConstruct) =>
    [
      ...new Set(
        allAcknowledgments(app).map((a) => a.id.replace(/\[Resource::<\w+\.Arn>/, '[Resource::<table>')),
      ),
    ].sort();

  it('acknowledges exactly the documented rules', () => {
    expect(acknowledgedIds(built.app)).toEqual([...DOCUMENTED].sort());
  });

  it('with relay:tracing=active, finds nothing unacknowledged and adds only the X-Ray wildcard', () => {
    const traced = buildRelay({ 'relay:tracing': 'active' });
    const report = new AwsSolutionsChecks(traced.app).validateScope(traced.app);

    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(acknowledgedIds(traced.app)).toEqual(
      [...new Set([...DOCUMENTED, 'AwsSolutions-IAM5[Resource::*]'])].sort(),
    );
  });
});

describe('synthesis gate', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'relay-nag-gate-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('fails synth when a resource has an unacknowledged finding', () => {
    const { app, stack } = buildApp({
      outdir,
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
    });
    // A queue without DLQ, SSE or TLS enforcement: SQS3 and SQS4 at least.
    new sqs.Queue(stack, 'UncheckedQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });

    let error: unknown;
    try {
      app.synth();
    } catch (err) {
      error = err;
    }

    expect((error as Error | undefined)?.name).toBe('ValidationFailed');
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    const violations = report.pluginReports.flatMap((p) => p.violations);
    expect(violations.map((v) => v.ruleName)).toContain('AwsSolutions-SQS3');
    // Only the unchecked queue fails: the relay's own resources stay clean.
    for (const v of violations) {
      for (const c of v.violatingConstructs)
        expect(c.constructPath, v.ruleName).toMatch(/\/UncheckedQueue\//);
    }
  });
});
