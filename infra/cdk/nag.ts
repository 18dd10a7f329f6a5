import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Runs cdk-nag's AWS Solutions pack on the whole app as a CDK policy-validation plugin (cdk-nag 3):
 * any finding not acknowledged on its construct fails `cdk synth`.
 */
export function applyNagChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/**
 * Acknowledges one cdk-nag finding on one construct (and its children), with the reason it is
 * acceptable here. `id` is a rule (`AwsSolutions-SMG4`) or a single finding of a multi-finding
 * rule (`AwsSolutions-IAM5[Resource::*]`); there is no prefix matching, each is named.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
