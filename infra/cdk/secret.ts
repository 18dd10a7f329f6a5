import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/**
 * The Secrets Manager secret that holds the 1fichier API key. It is created empty on purpose (no
 * generated value someone could mistake for a key): after the first deploy the owner stores the
 * key with `aws secretsmanager put-secret-value` (docs/deploy.md).
 */
export class FichierKeySecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        '1fichier API key used by fichier-relay (plain string, the key only). Created empty: set it with ' +
        '`aws secretsmanager put-secret-value --secret-id <this secret> --secret-string <key>`.',
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
