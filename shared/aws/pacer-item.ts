/**
 * The pacer's DynamoDB item (`PACER#<keyId>` / `PACER`, one per key id): its key, how it reads as a
 * {@link PacerState} and the operator's reset. {@link DynamoPacer} takes slots on it; the API only reads
 * and resets it (`POST /admin/circuit/reset`) through {@link PacerItem}, without the pacer and the 1fichier
 * client that come with it.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Pacer, PacerState } from '../fichier/pacer.js';

/** Primary key of the pacer item of one key id. */
export const pacerItemKey = (keyId: string) => ({ pk: `PACER#${keyId}`, sk: 'PACER' });

/** The part of a pacer that an operator's reset needs. */
export type PacerControl = Pick<Pacer, 'state' | 'reset'>;

/** Reads and resets the pacer item; never takes a slot. */
export class PacerItem implements PacerControl {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The state of one key id (a closed circuit with no slot taken when the item does not exist). */
  async state(keyId: string): Promise<PacerState> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: pacerItemKey(keyId), ConsistentRead: true }),
    );
    const item = out.Item ?? {};
    const s: PacerState = {
      keyId,
      lastCallAt: Number(item.lastCallAt ?? 0),
      pausedUntil: Number(item.pausedUntil ?? 0),
      floodCount: Number(item.floodCount ?? 0),
      circuitOpen: item.circuitOpen === true,
    };
    if (typeof item.circuitReason === 'string') s.circuitReason = item.circuitReason;
    if (typeof item.circuitOpenedAt === 'number') s.circuitOpenedAt = item.circuitOpenedAt;
    if (item.circuitManual === true) s.circuitManual = true;
    if (typeof item.circuitProbedAt === 'number') s.circuitProbedAt = item.circuitProbedAt;
    if (typeof item.waitingCreatedAt === 'number' && typeof item.waitingSeenAt === 'number') {
      s.oldestWaiting = { createdAt: item.waitingCreatedAt, seenAt: item.waitingSeenAt };
    }
    return s;
  }

  /** Closes the circuit and ends any pause and flood streak; the last slot time is kept. */
  async reset(keyId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: pacerItemKey(keyId),
        UpdateExpression:
          'SET circuitOpen = :false, pausedUntil = :zero, floodCount = :zero, keyId = :k, ' +
          'lastCallAt = if_not_exists(lastCallAt, :zero) ' +
          'REMOVE circuitReason, circuitOpenedAt, circuitManual, circuitProbedAt',
        ExpressionAttributeValues: { ':false': false, ':zero': 0, ':k': keyId },
      }),
    );
  }
}
