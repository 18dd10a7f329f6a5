/**
 * Helpers every DynamoDB adapter shares: the item type, ISO times, and opaque listing cursors that are
 * checked before they reach DynamoDB. Each aggregate's adapter (`dynamo-*-store.ts`) keeps its own key
 * prefixes; these helpers know none of them.
 */
import { DeleteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidCursorError } from '../jobs/store.js';
import { isConditionFailure } from './dynamo-errors.js';
import { TABLE_KEY_SCHEMA } from './table.js';

/** An item as the DocumentClient reads and writes it. */
export type Item = Record<string, unknown>;

/** Epoch ms as the ISO-8601 string the table stores. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Attributes that are table plumbing (keys, index keys, TTL), never fields of a record. */
export function withoutPlumbing(item: Item, plumbing: ReadonlySet<string>): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!plumbing.has(k)) out[k] = v;
  return out;
}

/** A query's `LastEvaluatedKey` as an opaque cursor (undefined at the end). */
export function encodeCursor(key: Item | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : undefined;
}

/** Index key names (a GSI, or the table itself when `index` is undefined). */
export interface CursorIndex {
  partitionKey: string;
  sortKey: string;
}

/**
 * Reads a cursor back into the start key of a query on `index` (or the table) within the partition
 * `partition`. A cursor must hold exactly that query's key (table keys, plus the index keys, all
 * strings) for that partition: anything else is refused here rather than handed to DynamoDB.
 */
export function decodeCursor(
  cursor: string | undefined,
  index: CursorIndex | undefined,
  partition: string,
): Item | undefined {
  if (!cursor) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new InvalidCursorError('cursor is not valid', { cause: err });
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key))
    throw new InvalidCursorError('cursor is not valid');
  const k = key as Item;
  const names = [
    TABLE_KEY_SCHEMA.partitionKey,
    TABLE_KEY_SCHEMA.sortKey,
    ...(index ? [index.partitionKey, index.sortKey] : []),
  ];
  const exact =
    Object.keys(k).length === names.length &&
    names.every((n) => typeof k[n] === 'string' && (k[n] as string).length > 0);
  if (!exact) throw new InvalidCursorError('cursor is not valid');
  const partitionName = index ? index.partitionKey : TABLE_KEY_SCHEMA.partitionKey;
  if (k[partitionName] !== partition) throw new InvalidCursorError('cursor was not issued for this listing');
  return k;
}

/** Deletes the item at `key` if it exists; false when there was none (one conditional write). */
export async function deleteIfExists(
  doc: DynamoDBDocumentClient,
  tableName: string,
  key: { pk: string; sk: string },
): Promise<boolean> {
  try {
    await doc.send(
      new DeleteCommand({ TableName: tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** Every item of partition `pk` whose sort key starts with `prefix`, all pages. */
export async function queryPrefix(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  prefix: string,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
