/**
 * Builds the CDK app. Settings come from `relay:*` context (config.ts); the account/region from the
 * CLI's credentials (CDK_DEFAULT_*), or none for an environment-agnostic offline synth.
 */
import { App, type AppProps, Tags } from 'aws-cdk-lib';
import { readRelayConfig } from './config.js';
import { applyNagChecks } from './nag.js';
import { RelayStack } from './relay-stack.js';

/** Builds the app: one relay stack, tagged, with cdk-nag's AWS Solutions checks on the whole app. */
export function buildApp(props?: AppProps): { app: App; stack: RelayStack } {
  const app = new App(props);
  const config = readRelayConfig(app.node);
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new RelayStack(app, `FichierRelay-${config.stage}`, {
    config,
    description: `fichier-relay (${config.stage}): webhooks and feeds to 1fichier remote uploads`,
    ...(account && region ? { env: { account, region } } : {}),
  });
  Tags.of(stack).add('project', 'fichier-relay');
  Tags.of(stack).add('stage', config.stage);
  applyNagChecks(app);
  return { app, stack };
}
