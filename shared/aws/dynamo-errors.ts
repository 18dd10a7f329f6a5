import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** True when a DynamoDB write lost its condition (matched by name too: several SDK copies may be loaded). */
export function isConditionFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err as Error)?.name === 'ConditionalCheckFailedException'
  );
}
