/**
 * Measures DynamoDB capacity units through an SDK middleware added to a client we are handed: every
 * request asks for `ReturnConsumedCapacity: INDEXES` and the answer's units are summed. The embedded
 * engine (dynalite) reports base-table units only, so the index writes are added by AWS's rules: a write
 * to an item that carries an index's keys also writes the index (projection ALL), and an update that
 * changes an index key writes it twice (delete + put).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Capacity consumed, by kind. */
export interface CapacityTotals {
  /** Read units reported by the engine (base table and indexes). */
  readUnits: number;
  /** Write units of the base table reported by the engine (failed conditional writes included). */
  writeUnitsTable: number;
  /** Write units of the global secondary indexes, derived by the rules above. */
  writeUnitsIndexes: number;
  /** Requests per operation. */
  ops: Record<string, number>;
  /** Base-table write units per item kind (the `pk` prefix: `JOB`, `PACER`, `REPORT`, `TOKEN`). */
  writeUnitsByKind: Record<string, number>;
  /** Requests per `<command> <item kind>`, e.g. `PutItemCommand JOB`. */
  opsByKind: Record<string, number>;
}

interface AttrValue {
  S?: string;
}
type Item = Record<string, AttrValue | unknown>;

const CAPACITY_OPS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'GetItemCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'QueryCommand',
  'ScanCommand',
]);

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as AttrValue).S === 'string') return (v as AttrValue).S;
  return undefined;
}

function kindOf(key: Item | undefined): string {
  const pk = str(key?.pk) ?? '';
  return pk.split('#', 1)[0] || 'other';
}

/** GSI write units of one write, by the AWS rules for the relay's two projection-ALL indexes. */
function indexWrites(command: string, input: Record<string, unknown>): number {
  if (command === 'PutItemCommand') {
    const item = (input.Item ?? {}) as Item;
    return (item.gsi1pk !== undefined ? 1 : 0) + (item.gsi2pk !== undefined ? 1 : 0);
  }
  if (command === 'UpdateItemCommand') {
    const key = (input.Key ?? {}) as Item;
    if (kindOf(key) !== 'JOB') return 0;
    const expr = String(input.UpdateExpression ?? '');
    const names = Object.entries((input.ExpressionAttributeNames ?? {}) as Record<string, string>);
    const alias = names.find(([, n]) => n === 'gsi1pk')?.[0];
    const mentions = (section: string) => {
      const m = expr.match(new RegExp(`${section}\\s+([^]*?)(?=\\b(?:SET|REMOVE|ADD|DELETE)\\b|$)`, 'i'));
      const body = m?.[1] ?? '';
      return body.includes('gsi1pk') || (alias !== undefined && body.includes(alias));
    };
    // Every job is in gsi2 (any change rewrites its projection); gsi1 holds non-terminal jobs: a new
    // status key is a delete + put, a removed key a delete, an untouched key an update.
    const gsi1 = mentions('SET') ? 2 : 1;
    return 1 + gsi1;
  }
  return 0;
}

/** Adds the measuring middleware to `client` (the one the runtime's store and pacer share). */
export function meterCapacity(client: DynamoDBClient | DynamoDBDocumentClient): {
  totals(): CapacityTotals;
  reset(): void;
} {
  let t: CapacityTotals = empty();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? '');
      const input = args.input as Record<string, unknown>;
      if (CAPACITY_OPS.has(command)) input.ReturnConsumedCapacity = 'INDEXES';
      t.ops[command] = (t.ops[command] ?? 0) + 1;
      const isWrite =
        command === 'PutItemCommand' || command === 'UpdateItemCommand' || command === 'DeleteItemCommand';
      const kind = kindOf((input.Key ?? input.Item) as Item | undefined);
      t.opsByKind[`${command} ${kind}`] = (t.opsByKind[`${command} ${kind}`] ?? 0) + 1;
      try {
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as {
          CapacityUnits?: number;
        }[];
        const units = list.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
        if (isWrite || command === 'BatchWriteItemCommand') {
          t.writeUnitsTable += units;
          t.writeUnitsByKind[kind] = (t.writeUnitsByKind[kind] ?? 0) + units;
          t.writeUnitsIndexes += indexWrites(command, input);
        } else t.readUnits += units;
        return out;
      } catch (err) {
        // A failed conditional write still consumes one write unit of the base table.
        if (isWrite && (err as Error).name === 'ConditionalCheckFailedException') {
          t.writeUnitsTable += 1;
          t.writeUnitsByKind[kind] = (t.writeUnitsByKind[kind] ?? 0) + 1;
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'benchCapacityMeter', priority: 'low' },
  );
  return {
    totals: () => structuredClone(t),
    reset: () => {
      t = empty();
    },
  };
}

function empty(): CapacityTotals {
  return {
    readUnits: 0,
    writeUnitsTable: 0,
    writeUnitsIndexes: 0,
    ops: {},
    writeUnitsByKind: {},
    opsByKind: {},
  };
}
