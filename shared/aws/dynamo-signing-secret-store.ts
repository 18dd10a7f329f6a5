/**
 * {@link SigningSecretStore} on the single table: `pk = NOTIFY#<userId>`, `sk = SECRET`, both secrets
 * sealed together, and a short fingerprint of the current one in the clear so a rotation can be
 * conditional on it without decrypting in DynamoDB.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SecretCipher } from '../notify/cipher.js';
import type { SigningSecretStore, SigningSecrets } from '../notify/store.js';
import { isConditionFailure } from './dynamo-errors.js';
import { notifyPartition } from './dynamo-target-store.js';

const SECRET_SK = 'SECRET';
const fingerprint = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 16);

/** The account signing secrets on DynamoDB. */
export class DynamoSigningSecretStore implements SigningSecretStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cipher: SecretCipher,
  ) {}

  async get(userId: string): Promise<SigningSecrets | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: notifyPartition(userId), sk: SECRET_SK },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    return JSON.parse(await this.cipher.open(String(out.Item.sealed))) as SigningSecrets;
  }

  async getOrCreate(userId: string, generate: () => string): Promise<SigningSecrets> {
    const found = await this.get(userId);
    if (found) return found;
    const fresh: SigningSecrets = { current: generate() };
    try {
      await this.write(userId, fresh, 'attribute_not_exists(pk)');
      return fresh;
    } catch (err) {
      // Another request created it first: theirs is the one.
      if (!isConditionFailure(err)) throw err;
      return (await this.get(userId)) as SigningSecrets;
    }
  }

  async rotate(userId: string, expectedCurrent: string, next: string, now: number): Promise<boolean> {
    const secrets: SigningSecrets = { current: next, previous: { secret: expectedCurrent, rotatedAt: now } };
    try {
      await this.write(userId, secrets, 'fp = :fp', { ':fp': fingerprint(expectedCurrent) });
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  private async write(
    userId: string,
    secrets: SigningSecrets,
    condition: string,
    values?: Record<string, unknown>,
  ): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: notifyPartition(userId),
          sk: SECRET_SK,
          fp: fingerprint(secrets.current),
          sealed: await this.cipher.seal(JSON.stringify(secrets)),
        },
        ConditionExpression: condition,
        ...(values ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  }
}
