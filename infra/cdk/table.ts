import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_GSIS, TABLE_KEY_SCHEMA, TTL_ATTRIBUTE } from '../../shared/aws/table.js';

/** Settings of the relay table. */
export interface RelayTableProps {
  /** DynamoDB deletion protection (context `relay:deletionProtection`). */
  readonly deletionProtection: boolean;
  /** What happens to the table when it leaves the stack; RETAIN unless a throwaway stage says otherwise. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The relay's single table. Keys, GSIs and the TTL attribute come from `shared/aws/table.ts`, the
 * same data the local runtime creates its table from, so the two cannot diverge.
 */
export class RelayTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RelayTableProps) {
    super(scope, id);
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: string(TABLE_KEY_SCHEMA.partitionKey),
      sortKey: string(TABLE_KEY_SCHEMA.sortKey),
      // On demand: traffic is bursty (webhooks, feeds) and idle most of the time.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // AWS managed key (aws/dynamodb): encryption at rest is explicit in the template and key use shows
      // in CloudTrail, with no key to manage; DynamoDB caches data keys, so KMS request cost stays negligible.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // The job-event source of notifications (infra/cdk/deliveries.ts): filtered records are not billed.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    for (const gsi of TABLE_GSIS) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.name,
        partitionKey: string(gsi.partitionKey),
        sortKey: string(gsi.sortKey),
        projectionType: dynamodb.ProjectionType[gsi.projection],
      });
    }
  }
}
