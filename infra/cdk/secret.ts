import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FICHIER_KEY_PLACEHOLDER } from '../../shared/config/fichier-key-placeholder.js';
import { acknowledge } from './nag.js';

/**
 * The Secrets Manager secret that holds the 1fichier API key. It is created holding a placeholder the
 * relay recognises (`FICHIER_KEY_PLACEHOLDER`): until the owner stores the key with
 * `aws secretsmanager put-secret-value` (docs/deploy.md), jobs wait and nothing is sent to 1fichier. A
 * generated random value would be sent, and 1fichier's 401 answers to it can get the IP banned.
 */
export class FichierKeySecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        '1fichier API key used by fichier-relay (plain string, the key only). Created with a placeholder: set it with ' +
        '`aws secretsmanager put-secret-value --secret-id <this secret> --secret-string <key>`.',
      // Not a secret: the placeholder is the same in every stack. CloudFormation keeps it only until the
      // owner's put-secret-value, and later deploys do not put it back (the template value does not change).
      secretStringValue: SecretValue.unsafePlainText(FICHIER_KEY_PLACEHOLDER),
      // The key is the owner's credential at 1fichier; keep it if the stack goes away by mistake.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'The secret is a third-party 1fichier API key: AWS cannot rotate it, because 1fichier issues keys only in ' +
        'its web console (console/params.pl); the owner rotates it there and stores it with put-secret-value.',
    );
  }
}
