// Creates the tables and the bucket when they are missing (local stack and tests; the CDK stack provisions the
// cloud). Idempotent, and returns only once everything is usable. A table an older Winnow made without an index the
// code now queries is rebuilt with it, every item kept (`rebuild`): DynamoDB Local and dynalite cannot add an index.

import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { TABLE_SCHEMAS, type KeyAttr, type TableNames, type TableSchema } from './schema.js';

const WAIT_MS = 120_000;
const POLL_MS = 100;

function keySchema(partitionKey: KeyAttr, sortKey?: KeyAttr): KeySchemaElement[] {
  const keys: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
  if (sortKey) keys.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
  return keys;
}

export function createTableInput(tableName: string, schema: TableSchema): CreateTableCommandInput {
  const attrs = new Map<string, AttributeDefinition>();
  const define = (a?: KeyAttr) => a && attrs.set(a.name, { AttributeName: a.name, AttributeType: a.type });
  define(schema.partitionKey);
  define(schema.sortKey);
  for (const index of schema.indexes) {
    define(index.partitionKey);
    define(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs.values()],
    KeySchema: keySchema(schema.partitionKey, schema.sortKey),
    GlobalSecondaryIndexes: schema.indexes.length
      ? schema.indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: index.include ? { ProjectionType: 'INCLUDE', NonKeyAttributes: index.include } : { ProjectionType: 'ALL' },
        }))
      : undefined,
  };
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

const isActive = (table: TableDescription) =>
  table.TableStatus === 'ACTIVE' && (table.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');

const missingIndexes = (table: TableDescription, schema: TableSchema) => {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  return schema.indexes.filter((i) => !present.has(i.name)).map((i) => i.name);
};

async function ensureTable(client: DynamoDBClient, tableName: string, schema: TableSchema, log: (message: string) => void): Promise<void> {
  const table = await describe(client, tableName);
  if ((table && missingIndexes(table, schema).length > 0) || (await describe(client, copyOf(tableName)))) {
    await rebuild(client, tableName, schema, log);
    return;
  }
  if (!table) await createTable(client, tableName, schema);
  await untilActive(client, tableName);
}

async function createTable(client: DynamoDBClient, tableName: string, schema: TableSchema): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName, schema)));
  } catch (err) {
    // Another process created it in the meantime: fine.
    if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
  }
}

async function untilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const table = await describe(client, tableName);
    if (table && isActive(table)) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become active within ${WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function untilGone(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) throw err;
  }
  const deadline = Date.now() + WAIT_MS;
  while (await describe(client, tableName)) {
    if (Date.now() > deadline) throw new Error(`table ${tableName} was not deleted within ${WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The copy a rebuild goes through, and the item that says the copy is whole. */
const copyOf = (tableName: string) => `${tableName}.rebuild`;
const COMPLETE = 'winnow:rebuild-complete';
function completeMarker(schema: TableSchema): Record<string, AttributeValue> {
  const value = (type: 'S' | 'N' | 'B'): AttributeValue => (type === 'S' ? { S: COMPLETE } : type === 'N' ? { N: '-1' } : { B: new TextEncoder().encode(COMPLETE) });
  return { [schema.partitionKey.name]: value(schema.partitionKey.type), ...(schema.sortKey ? { [schema.sortKey.name]: value(schema.sortKey.type) } : {}) };
}
const isMarker = (item: Record<string, AttributeValue>, schema: TableSchema) => {
  const key = item[schema.partitionKey.name];
  return key?.S === COMPLETE || (key?.B !== undefined && new TextDecoder().decode(key.B) === COMPLETE);
};

/**
 * The table again with every index the code needs, its items kept. The items go first into a copy made with the new
 * layout, and the old table is touched only once the copy is whole (its marker item written last); then the table is
 * made again, filled from the copy, and the copy dropped. A start that dies at any point finds the copy: a whole one
 * finishes the rebuild from it, a partial one (the old table untouched) is dropped and the rebuild starts over.
 */
async function rebuild(client: DynamoDBClient, tableName: string, schema: TableSchema, log: (message: string) => void): Promise<void> {
  const copy = copyOf(tableName);
  // The items, read once: from a whole copy a killed start left, else from the table (copied whole first).
  const left = (await describe(client, copy)) ? await scanAll(client, copy) : [];
  let items = left.some((item) => isMarker(item, schema)) ? left.filter((item) => !isMarker(item, schema)) : undefined;
  if (!items) {
    const old = await describe(client, tableName);
    log(`table ${tableName}: adding index ${missingIndexes(old!, schema).join(', ')} (made by an older Winnow); copying its items, nothing is lost`);
    await untilGone(client, copy);
    await createTable(client, copy, schema);
    await untilActive(client, copy);
    items = await scanAll(client, tableName);
    await writeAll(client, copy, items);
    await client.send(new PutItemCommand({ TableName: copy, Item: completeMarker(schema) }));
  }
  await untilGone(client, tableName);
  await createTable(client, tableName, schema);
  await untilActive(client, tableName);
  await writeAll(client, tableName, items);
  await untilGone(client, copy);
  log(`table ${tableName}: rebuilt with its indexes, ${items.length} items kept`);
}

async function scanAll(client: DynamoDBClient, tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function writeAll(client: DynamoDBClient, tableName: string, items: Record<string, AttributeValue>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 20) throw new Error(`table ${tableName}: items still unprocessed after ${attempt} attempts`);
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
      requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      if (requests.length > 0) await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
}

/** Accepts the DynamoDB client, or the stores built by createAwsStores (which carry their clients). */
export async function ensureTables(
  target: DynamoDBClient | { clients: { dynamodb: DynamoDBClient } },
  tables: TableNames,
  log: (message: string) => void = (message) => console.warn(message),
): Promise<void> {
  const client = 'clients' in target ? target.clients.dynamodb : target;
  await Promise.all(
    (Object.keys(TABLE_SCHEMAS) as (keyof TableNames)[]).map((name) => ensureTable(client, tables[name], TABLE_SCHEMAS[name], log)),
  );
}

/** Accepts the S3 client, or the stores built by createAwsStores. */
export async function ensureBucket(target: S3Client | { clients: { s3: S3Client } }, bucket: string): Promise<void> {
  const client = 'clients' in target ? target.clients.s3 : target;
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (!(err instanceof Error && (err.name === 'NotFound' || err.name === 'NoSuchBucket' || status === 404))) throw err;
  }
  const region = await client.config.region();
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region that refuses an explicit location.
        CreateBucketConfiguration: region && region !== 'us-east-1' ? { LocationConstraint: region as never } : undefined,
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && (err.name === 'BucketAlreadyOwnedByYou' || err.name === 'BucketAlreadyExists'))) throw err;
  }
}
