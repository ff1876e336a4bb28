// Upgrading keeps the data: a local table an older Winnow made without an index the code now queries (the annotations'
// `served` index, added for the quality view) is rebuilt with it at start, every item kept, instead of refusing to
// start until the user deletes it. A start killed midway through the rebuild finishes it the next time, from the copy
// it made before touching the table.

import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableInput, ensureTables } from '../../functions/adapters/aws/provision.js';
import { DEFAULT_TABLE_NAMES, TABLE_SCHEMAS } from '../../functions/adapters/aws/schema.js';
import { startDynalite, type RunningEmulator } from '../../functions/local/emulators.js';

const TABLE = DEFAULT_TABLE_NAMES.annotations;
/** The annotations table as the previous release made it: every index but `served`. */
const OLD = { ...TABLE_SCHEMAS.annotations, indexes: TABLE_SCHEMAS.annotations.indexes.filter((i) => i.name !== 'served') };

function record(n: number): Record<string, AttributeValue> {
  return {
    sampleKey: { S: `meadow#s${n}` },
    version: { N: String(n % 3) },
    projectId: { S: 'meadow' },
    sortKey: { S: `s${n}#${n % 3}` },
    confidences: { L: [{ N: '0' }, { N: '1' }] },
    labelerId: { S: 'ann' },
  };
}

describe('a table made by an older Winnow', () => {
  let dynamo: RunningEmulator;
  let client: DynamoDBClient;
  const messages: string[] = [];
  const tables = async () => (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  const items = async (name = TABLE) => {
    const out: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.map((i) => `${i.sampleKey.S}/${i.version.N}`).sort();
  };
  const indexes = async () => ((await client.send(new DescribeTableCommand({ TableName: TABLE }))).Table!.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort();
  /** Creates the table and waits until it is ACTIVE (the emulator makes it so on a timer). */
  const create = async (name: string, schema: typeof OLD) => {
    await client.send(new CreateTableCommand(createTableInput(name, schema)));
    while ((await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 10));
  };
  /** Deletes the table and waits until it is gone. */
  const drop = async (name: string) => {
    await client.send(new DeleteTableCommand({ TableName: name }));
    while ((await tables()).includes(name)) await new Promise((r) => setTimeout(r, 10));
  };
  const oldTable = async (n: number) => {
    await create(TABLE, OLD);
    for (let i = 0; i < n; i++) await client.send(new PutItemCommand({ TableName: TABLE, Item: record(i) }));
  };

  beforeAll(async () => {
    dynamo = await startDynalite();
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('is rebuilt with the new index at start, every item kept', async () => {
    expect(OLD.indexes.length).toBeLessThan(TABLE_SCHEMAS.annotations.indexes.length);
    await oldTable(1234);
    const before = await items();
    await ensureTables(client, DEFAULT_TABLE_NAMES, (m) => messages.push(m));
    expect(await indexes()).toEqual(TABLE_SCHEMAS.annotations.indexes.map((i) => i.name).sort());
    expect(await items()).toEqual(before);
    expect(before).toHaveLength(1234);
    expect(await tables()).not.toContain(`${TABLE}.rebuild`);
    expect(messages.join('\n')).toMatch(/adding index served .* nothing is lost[\s\S]*1234 items kept/);
    // Started again: nothing to do.
    messages.length = 0;
    await ensureTables(client, DEFAULT_TABLE_NAMES, (m) => messages.push(m));
    expect(messages).toEqual([]);
  });

  it('a start killed after the table was dropped finishes from the copy; one killed while copying starts over', async () => {
    // Killed after the copy was whole and the table dropped: only the copy is left.
    await drop(TABLE);
    await create(`${TABLE}.rebuild`, TABLE_SCHEMAS.annotations);
    for (let i = 0; i < 300; i++) await client.send(new PutItemCommand({ TableName: `${TABLE}.rebuild`, Item: record(i) }));
    await client.send(new PutItemCommand({ TableName: `${TABLE}.rebuild`, Item: { sampleKey: { S: 'winnow:rebuild-complete' }, version: { N: '-1' } } }));
    await ensureTables(client, DEFAULT_TABLE_NAMES, () => undefined);
    expect(await items()).toHaveLength(300);
    expect(await tables()).not.toContain(`${TABLE}.rebuild`);

    // Killed while copying: the old table is whole, the copy partial (no marker): dropped, and the rebuild starts over.
    await drop(TABLE);
    await oldTable(120);
    await create(`${TABLE}.rebuild`, TABLE_SCHEMAS.annotations);
    await client.send(new PutItemCommand({ TableName: `${TABLE}.rebuild`, Item: record(999) }));
    await ensureTables(client, DEFAULT_TABLE_NAMES, () => undefined);
    expect(await items()).toEqual(Array.from({ length: 120 }, (_, i) => `meadow#s${i}/${i % 3}`).sort());
    expect(await indexes()).toContain('served');
  });
});
