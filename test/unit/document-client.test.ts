// The document client the AWS stores use (adapters/aws/document-client.ts: one resolved middleware chain per
// operation) answers exactly as the SDK's DynamoDBDocumentClient does, against dynalite: the same items back from
// every kind of request the adapters send, the same refusals with the same error, undefined fields dropped.

import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../functions/adapters/aws/clients.js';
import { CachedDocumentClient } from '../../functions/adapters/aws/document-client.js';
import { startDynalite, type RunningEmulator } from '../../functions/local/emulators.js';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('CachedDocumentClient', () => {
  let dynalite: RunningEmulator;
  let ours: AwsClients;
  let sdk: DynamoDBDocumentClient;
  let plain: DynamoDBClient;

  beforeAll(async () => {
    dynalite = await startDynalite();
    ours = createAwsClients({ region: 'us-east-1', endpoints: { dynamodb: dynalite.endpoint }, credentials: CREDENTIALS });
    plain = new DynamoDBClient({ region: 'us-east-1', endpoint: dynalite.endpoint, credentials: CREDENTIALS });
    sdk = DynamoDBDocumentClient.from(plain, { marshallOptions: { removeUndefinedValues: true } });
    for (const TableName of ['doc-ours', 'doc-sdk']) {
      await plain.send(new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      }));
    }
  });

  afterAll(async () => {
    destroyAwsClients(ours);
    plain.destroy();
    await dynalite.close();
  });

  it('is the stores’ document client', () => {
    expect(ours.doc).toBeInstanceOf(CachedDocumentClient);
  });

  it('answers every kind of request as the SDK’s document client does', async () => {
    const item = (i: number) => ({
      pk: 'p',
      sk: `s#${String(i).padStart(3, '0')}`,
      version: i,
      labeledBy: ['a', 'b'],
      tags: new Set(['x', 'y']),
      label: { confidences: [0, 1, 0.5], ambiguous: false, at: '2026-12-06T08:00:00.000Z', note: undefined },
      blob: new Uint8Array([1, 2, 3]),
      nothing: null,
      gone: undefined,
    });
    const run = async (doc: DynamoDBDocumentClient, TableName: string) => {
      const strip = <T extends { $metadata?: unknown }>(out: T) => {
        const { $metadata: _m, ...rest } = out;
        return rest;
      };
      const answers: unknown[] = [];
      for (let i = 0; i < 3; i++) answers.push(strip(await doc.send(new PutCommand({ TableName, Item: item(i) }))));
      answers.push(strip(await doc.send(new GetCommand({ TableName, Key: { pk: 'p', sk: 's#001' } }))));
      answers.push(strip(await doc.send(new GetCommand({ TableName, Key: { pk: 'p', sk: 'missing' } }))));
      answers.push(
        strip(await doc.send(new UpdateCommand({
          TableName,
          Key: { pk: 'p', sk: 's#001' },
          UpdateExpression: 'SET version = :v, lease = :l',
          ConditionExpression: 'version = :was',
          ExpressionAttributeValues: { ':v': 2, ':was': 1, ':l': { labelerId: 'a', until: 5, probs: [0.25, 0.75], skipped: undefined } },
          ReturnValues: 'ALL_NEW',
        }))),
      );
      const refused = await doc
        .send(new UpdateCommand({ TableName, Key: { pk: 'p', sk: 's#001' }, UpdateExpression: 'SET version = :v', ConditionExpression: 'version = :was', ExpressionAttributeValues: { ':v': 9, ':was': 1 } }))
        .then(() => undefined, (err: Error & { $metadata?: { httpStatusCode?: number } }) => [err.constructor.name, err.name, err.$metadata?.httpStatusCode]);
      answers.push(refused);
      answers.push(strip(await doc.send(new QueryCommand({ TableName, KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)', ExpressionAttributeValues: { ':p': 'p', ':s': 's#' }, Limit: 2 }))));
      const batch = await doc.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: [{ pk: 'p', sk: 's#000' }, { pk: 'p', sk: 's#002' }, { pk: 'p', sk: 'none' }] } } }));
      answers.push((batch.Responses?.[TableName] ?? []).sort((a, b) => String(a.sk).localeCompare(String(b.sk))));
      answers.push(strip(await doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: [{ DeleteRequest: { Key: { pk: 'p', sk: 's#000' } } }, { PutRequest: { Item: item(7) } }] } }))));
      answers.push(strip(await doc.send(new DeleteCommand({ TableName, Key: { pk: 'p', sk: 's#002' }, ReturnValues: 'ALL_OLD' }))));
      const scan = await doc.send(new ScanCommand({ TableName }));
      answers.push((scan.Items ?? []).sort((a, b) => String(a.sk).localeCompare(String(b.sk))));
      return JSON.parse(JSON.stringify(answers, (_k, v) => (v instanceof Set ? { set: [...v].sort() } : v instanceof Uint8Array ? { bytes: [...v] } : v)).replaceAll('doc-sdk', 'doc-ours'));
    };
    const expected = await run(sdk, 'doc-sdk');
    const got = await run(ours.doc, 'doc-ours');
    expect(got).toEqual(expected);
    // What the comparison covered: a refusal named as DynamoDB names it, items with nested maps, sets and bytes.
    expect(got[6]).toEqual(['ConditionalCheckFailedException', 'ConditionalCheckFailedException', 400]);
    expect(got[3].Item).toMatchObject({ tags: { set: ['x', 'y'] }, blob: { bytes: [1, 2, 3] } });
    expect(got[3].Item.label).not.toHaveProperty('note');
  });
});
