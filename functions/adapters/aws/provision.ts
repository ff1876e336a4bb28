// Creates the tables and the bucket when they are missing (local stack and tests; the CDK stack provisions the
// cloud). Idempotent, and returns only once everything is usable.

import {
  CreateTableCommand,
  DescribeTableCommand,
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

/** A table left by an older layout would fail later with obscure errors: say which index is missing now. */
function checkIndexes(tableName: string, table: TableDescription, schema: TableSchema): void {
  const present = new Set((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const missing = schema.indexes.filter((i) => !present.has(i.name)).map((i) => i.name);
  if (missing.length) throw new Error(`table ${tableName} exists without index ${missing.join(', ')}; delete it to let Winnow recreate it`);
}

async function ensureTable(client: DynamoDBClient, tableName: string, schema: TableSchema): Promise<void> {
  if (!(await describe(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName, schema)));
    } catch (err) {
      // Another process created it in the meantime: fine.
      if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
    }
  }
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const table = await describe(client, tableName);
    if (table) {
      checkIndexes(tableName, table, schema);
      if (isActive(table)) return;
    }
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become active within ${WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Accepts the DynamoDB client, or the stores built by createAwsStores (which carry their clients). */
export async function ensureTables(target: DynamoDBClient | { clients: { dynamodb: DynamoDBClient } }, tables: TableNames): Promise<void> {
  const client = 'clients' in target ? target.clients.dynamodb : target;
  await Promise.all(
    (Object.keys(TABLE_SCHEMAS) as (keyof TableNames)[]).map((name) => ensureTable(client, tables[name], TABLE_SCHEMAS[name])),
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
