import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG, type LogLevel, type TracingMode } from './config.js';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './metrics-contract.js';
import { acknowledge } from './nag.js';

/**
 * Lambda runtime of every function; {@link BUNDLE_TARGET} must move with it. This aws-cdk-lib also
 * knows nodejs24.x, so cdk-nag's L1 ("latest runtime") fires: acknowledged in {@link RelayFunction}.
 */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** esbuild target matching {@link LAMBDA_RUNTIME}. */
export const BUNDLE_TARGET = 'node22';

/**
 * Prepended to every ESM bundle: some CommonJS dependencies inlined by esbuild call `require()`
 * for Node built-ins, which does not exist in an ES module unless we define it.
 */
export const BUNDLE_BANNER =
  "import { createRequire as __relayCreateRequire } from 'node:module'; const require = __relayCreateRequire(import.meta.url);";

/**
 * Whether the AWS SDK v3 is bundled into each function (true) or left to the runtime's copy (false).
 * Decided by measurement (`infra/cdk/tools/measure-bundling.ts`, figures in docs/deploy.md).
 */
export const BUNDLE_AWS_SDK = true;

/**
 * Environment variables every function gets besides its `FUNCTION_ENV` entries. They are read by
 * Node and Powertools, not by our code, so they live here rather than in `shared/config`.
 */
export const RUNTIME_ENV = {
  /** Stack traces point at the TypeScript sources through the bundled source maps. */
  NODE_OPTIONS: '--enable-source-maps',
  /** Powertools Logger/Metrics `service` (also the metric dimension the alarms match). */
  POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
  /** Powertools Metrics namespace the alarms watch. */
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  /**
   * Powertools Logger level (`relay:logLevel` replaces it per stack). Filtering happens in the Logger, not
   * with Lambda's `ApplicationLogLevel`: that one needs the JSON log format and would also drop the EMF
   * lines the custom-metric alarms are built from. EMF output does not depend on this level.
   */
  POWERTOOLS_LOG_LEVEL: DEFAULT_CONFIG.logLevel as LogLevel,
} as const;

/** Lambda tracing mode of each `relay:tracing` value (`DISABLED` renders no `TracingConfig` at all). */
export const TRACING: Record<TracingMode, lambda.Tracing> = {
  off: lambda.Tracing.DISABLED,
  active: lambda.Tracing.ACTIVE,
};

/** Names of {@link RUNTIME_ENV}, for tests that check a function's environment is exactly what we mean. */
export const RUNTIME_ENV_NAMES = Object.keys(RUNTIME_ENV) as (keyof typeof RUNTIME_ENV)[];

/** What differs between our functions. */
export interface RelayFunctionProps {
  /** Path of the handler file, relative to the repository root (e.g. `functions/api.ts`). */
  readonly entry: string;
  /** Human description shown in the console. */
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Days to keep this function's logs. */
  readonly logRetention: logs.RetentionDays;
  /** X-Ray tracing (`relay:tracing`). @default DEFAULT_CONFIG.tracing ('off') */
  readonly tracing?: TracingMode;
  /** `POWERTOOLS_LOG_LEVEL` (`relay:logLevel`). @default DEFAULT_CONFIG.logLevel ('INFO') */
  readonly logLevel?: LogLevel;
  /** Shell commands run after esbuild, writing more files into the bundle (the API's status page). */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
}

/**
 * One Lambda function with the project's defaults: `NodejsFunction` bundled locally by esbuild
 * (ESM, minified, source maps, `node22`), arm64, X-Ray tracing only when asked (`relay:tracing`), its
 * own log group with a retention, and its own role that may write to that log group and nothing else until a `use*`
 * helper (grants.ts) adds a permission together with the variable that needs it.
 */
export class RelayFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RelayFunctionProps) {
    super(scope, id);
    const tracing = props.tracing ?? DEFAULT_CONFIG.tracing;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs are operational data with their own retention; the table is what must survive a teardown.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own role instead of the default one, which carries the AWS managed policy
    // AWSLambdaBasicExecutionRole (logs:CreateLogGroup/CreateLogStream/PutLogEvents on every log group).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      tracing: TRACING[tracing],
      environment: { ...RUNTIME_ENV, POWERTOOLS_LOG_LEVEL: props.logLevel ?? DEFAULT_CONFIG.logLevel },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        banner: BUNDLE_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.EXTERNAL,
        // Source maps without embedded sources keep the zip small; traces still name file:line.
        sourcesContent: false,
        // Prefer packages' ESM builds (tree-shakes better).
        mainFields: ['module', 'main'],
        bundleAwsSDK: BUNDLE_AWS_SDK,
        // Bundling must run here with the project's esbuild: there is no Docker to fall back to.
        forceDockerBundling: false,
        ...(props.afterBundling
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: props.afterBundling,
              },
            }
          : {}),
      },
    });
    acknowledge(
      this.fn,
      'AwsSolutions-L1',
      'nodejs22.x is the runtime chosen for the project (bundle target node22, Powertools 2.x, AWS SDK v3 ' +
        'needing Node >= 22 from 2027); moving to nodejs24.x is a deliberate one-line change in LAMBDA_RUNTIME ' +
        'and BUNDLE_TARGET, to make before Node 22 reaches end of life (2027-04-30).',
    );
    if (tracing === 'active') {
      // Active tracing makes CDK add xray:PutTraceSegments/PutTelemetryRecords on "*" to the role's
      // default policy; that statement is then the only wildcard resource the stack grants.
      acknowledge(
        this.role.node.findChild('DefaultPolicy'),
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; AWS requires Resource "*" (added by relay:tracing=active).',
      );
    }
  }
}
