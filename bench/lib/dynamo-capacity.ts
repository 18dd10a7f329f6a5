/**
 * Measures DynamoDB capacity units through an SDK middleware added to a client we are handed: every
 * request asks for `ReturnConsumedCapacity: INDEXES` and the answer's units are summed. The embedded
 * engine (dynalite) reports base-table units only, so the index writes are added by AWS's rules for the
 * indexes declared in `shared/aws/table.ts` (see `indexWrites`).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE_GSIS } from '../../shared/aws/table.js';

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
  /** Index write units per item kind. */
  indexUnitsByKind: Record<string, number>;
  /** Read units per item kind (`other` for queries and batch reads, which name no single item). */
  readUnitsByKind: Record<string, number>;
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

interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey: string;
  projection: string;
}
const INDEXES: readonly IndexSpec[] = TABLE_GSIS;

function itemKey(key: Item | undefined): string {
  return `${str(key?.pk) ?? ''}\u0000${str(key?.sk) ?? ''}`;
}

/** Splits `a = :x, b = if_not_exists(b, :y)` at top-level commas. */
function topLevel(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

/** Attribute names an update expression sets (SET, ADD) and removes (REMOVE), aliases resolved. */
function updatedNames(input: Record<string, unknown>): { set: Set<string>; removed: Set<string> } {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const expr = String(input.UpdateExpression ?? '').replace(/#[A-Za-z0-9_]+/g, (a) => names[a] ?? a);
  const set = new Set<string>();
  const removed = new Set<string>();
  const re = /\b(SET|REMOVE|ADD|DELETE)\b([\s\S]*?)(?=\b(?:SET|REMOVE|ADD|DELETE)\b|$)/gi;
  for (const m of expr.matchAll(re)) {
    const action = (m[1] ?? '').toUpperCase();
    for (const part of topLevel(m[2] ?? '')) {
      const name = (action === 'SET' ? part.split('=')[0] : part.split(/\s+/)[0])?.trim() ?? '';
      if (action === 'REMOVE') removed.add(name);
      else set.add(name);
    }
  }
  return { set, removed };
}

/**
 * Index write units of one successful write, by AWS's rules: an entry written, replaced or deleted costs
 * one unit; an update that changes an index key costs two (delete + put); an update that leaves the keys
 * alone rewrites the entry of a projection-ALL index and costs nothing on a KEYS_ONLY one. Which items
 * carry which index is learnt from the writes seen (`membership`).
 */
function indexWrites(
  command: string,
  input: Record<string, unknown>,
  membership: Map<string, Set<string>>,
): number {
  if (command === 'PutItemCommand') {
    const item = (input.Item ?? {}) as Item;
    const k = itemKey(item);
    const before = membership.get(k) ?? new Set<string>();
    const after = new Set(INDEXES.filter((i) => item[i.partitionKey] !== undefined).map((i) => i.name));
    membership.set(k, after);
    return new Set([...before, ...after]).size;
  }
  if (command === 'UpdateItemCommand') {
    const k = itemKey((input.Key ?? {}) as Item);
    const before = membership.get(k) ?? new Set<string>();
    const { set, removed } = updatedNames(input);
    const after = new Set<string>();
    let units = 0;
    for (const idx of INDEXES) {
      const had = before.has(idx.name);
      const has = !removed.has(idx.partitionKey) && (had || set.has(idx.partitionKey));
      if (has) after.add(idx.name);
      const keyChanged = set.has(idx.partitionKey) || set.has(idx.sortKey);
      if (had && has)
        units += keyChanged ? 2 : idx.projection === 'ALL' && set.size + removed.size > 0 ? 1 : 0;
      else if (had !== has) units += 1;
    }
    membership.set(k, after);
    return units;
  }
  return 0;
}

/** Adds the measuring middleware to `client` (the one the runtime's store and pacer share). */
export function meterCapacity(client: DynamoDBClient | DynamoDBDocumentClient): {
  totals(): CapacityTotals;
  reset(): void;
} {
  let t: CapacityTotals = empty();
  const membership = new Map<string, Set<string>>();
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
          const index = indexWrites(command, input, membership);
          t.writeUnitsIndexes += index;
          t.indexUnitsByKind[kind] = (t.indexUnitsByKind[kind] ?? 0) + index;
        } else {
          t.readUnits += units;
          t.readUnitsByKind[kind] = (t.readUnitsByKind[kind] ?? 0) + units;
        }
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
    indexUnitsByKind: {},
    readUnitsByKind: {},
    opsByKind: {},
  };
}
