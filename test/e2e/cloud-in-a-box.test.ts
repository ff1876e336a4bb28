// Cloud in a box: what CI can prove about `cdk deploy` without an account. The stack is synthesized, and everything
// the Lambdas get from it is READ FROM THE TEMPLATE: each function's environment variables (CloudFormation
// references resolved to the emulated resources), the tables' key schemas and indexes (created in dynalite as the
// template declares them), the event source mappings (batch size, partial batch failures), the bucket's
// notification filter (which uploads reach which queue) and the API route and JWT authorizer (issuer, audience).
// The entry points the stack deploys then run against dynalite, s3rver and a small SQS endpoint, with the event
// shapes AWS delivers: S3 -> SQS records with URL-encoded keys, HTTP API v2 events carrying the JWT claims as the
// Cognito authorizer passes them. Upload -> embedded -> labeled through the API -> ranked -> exported.
// What this cannot prove is listed in the README ("What CI proves without an account").

import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStores, destroyAwsClients, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { startDynalite, startS3rver } from '../../functions/local/emulators.js';
import { PATHS } from '../../infra/paths.js';
import { logicalId, synthWinnow, type Synthesized } from '../infra/support/synth.js';
import { FLOWERS, MODELS, REPO } from '../support/paths.js';
import { startSqsEmulator, type SqsEmulator } from '../support/sqs-emulator.js';
import { tempDir } from '../support/stack.js';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const POOL_ID = `${REGION}_BoxPool1`;
const CLIENT_ID = 'box-web-client';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

type Cfn = Record<string, any>;
type Fn = 'api' | 'ingest' | 'trainer' | 'export';

let s: Synthesized;
let resources: Cfn;
let sqs: SqsEmulator;
let stores: AwsStores;
let bucket: string;
let cognito: Server;
let signToken: (claims: Record<string, unknown>) => Promise<string>;
const closers: (() => Promise<void>)[] = [];
const handlers = new Map<Fn, (event: unknown, context?: unknown) => Promise<any>>();
let endpoints: { s3: string; dynamodb: string; cognito: string };

/** A CloudFormation value as the deployed stack would see it, with the emulated resources standing in. */
function resolveCfn(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const v = value as Cfn;
  if (v.Ref) {
    const pseudo: Record<string, string> = { 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::Partition': 'aws' };
    if (pseudo[v.Ref]) return pseudo[v.Ref];
    const r = resources[v.Ref];
    switch (r?.Type) {
      case 'AWS::DynamoDB::Table': return v.Ref; // table name = logical id
      case 'AWS::SQS::Queue': return sqs.queueUrl(v.Ref);
      case 'AWS::S3::Bucket': return resolveCfn(r.Properties.BucketName);
      case 'AWS::Cognito::UserPool': return POOL_ID;
      case 'AWS::Cognito::UserPoolClient': return CLIENT_ID;
      default: throw new Error(`no stand-in for Ref ${v.Ref} (${r?.Type})`);
    }
  }
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(resolveCfn).join(v['Fn::Join'][0]);
  if (v['Fn::GetAtt']) {
    const [id, attr] = v['Fn::GetAtt'];
    if (resources[id]?.Type === 'AWS::SQS::Queue' && attr === 'Arn') return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
    if (resources[id]?.Type === 'AWS::S3::Bucket' && attr === 'Arn') return `arn:aws:s3:::${resolveCfn({ Ref: id })}`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

const fnConstruct = (fn: Fn) => ({ api: s.stack.api.fn, ingest: s.stack.ingest.fn, trainer: s.stack.trainer.fn, export: s.stack.exports.fn })[fn];
const fnId = (fn: Fn) => logicalId(s.stack, fnConstruct(fn));

/** The function's environment from the template, plus what Lambda, the image and the emulators add. */
function environmentOf(fn: Fn): Record<string, string> {
  const vars = resources[fnId(fn)].Properties.Environment.Variables as Cfn;
  const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolveCfn(v)]));
  return {
    ...env,
    AWS_REGION: REGION, // set by Lambda
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(resources[fnId(fn)].Properties.MemorySize), // set by Lambda
    ...CREDENTIALS, // the role's credentials in the cloud
    WINNOW_S3_ENDPOINT: endpoints.s3,
    WINNOW_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    ...(fn === 'api' ? { WINNOW_COGNITO_ENDPOINT: endpoints.cognito } : {}),
    // The ingest image's ENV (functions/ingest/Dockerfile): manifests beside the handler, weights baked in.
    ...(fn === 'ingest' ? { WINNOW_MANIFESTS: path.join(REPO, 'models'), WINNOW_MODELS: MODELS } : {}),
  };
}

/** Runs `body` with exactly this function's environment (entry points read it when they start). */
async function withEnvironment<T>(fn: Fn, body: () => Promise<T>): Promise<T> {
  for (const key of Object.keys(process.env)) if (key.startsWith('WINNOW_')) delete process.env[key];
  Object.assign(process.env, environmentOf(fn));
  return body();
}

/** The modules the stack deploys: the bundled functions' entries (infra/paths.ts), the image's CMD for ingest. */
function entryOf(fn: Fn): string {
  if (fn === 'ingest') {
    const cmd = /^CMD \["([^"]+)"\]/m.exec(readFileSync(path.join(PATHS.repoRoot, PATHS.ingestDockerfile), 'utf8'))![1];
    return path.join(PATHS.repoRoot, `${cmd.slice(0, cmd.lastIndexOf('.'))}.ts`);
  }
  return { api: PATHS.apiEntry, trainer: PATHS.trainerEntry, export: PATHS.exportEntry }[fn];
}

async function invoke(fn: Fn, event: unknown, context?: unknown): Promise<any> {
  return withEnvironment(fn, async () => {
    if (!handlers.has(fn)) handlers.set(fn, (await import(entryOf(fn))).handler);
    return handlers.get(fn)!(event, context);
  });
}

/** The function's SQS event source as the template declares it. */
function eventSourceOf(fn: Fn): { queue: string; batchSize: number; partialFailures: boolean } {
  const mapping = Object.values(resources).find((r: Cfn) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.FunctionName.Ref === fnId(fn)) as Cfn;
  return {
    queue: mapping.Properties.EventSourceArn['Fn::GetAtt'][0],
    batchSize: mapping.Properties.BatchSize ?? 10,
    partialFailures: (mapping.Properties.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
  };
}

/** Delivers everything waiting on the function's queue, in its batch size, as the event source would. */
async function deliver(fn: Fn): Promise<number> {
  const source = eventSourceOf(fn);
  const records = sqs.drain(source.queue);
  for (let i = 0; i < records.length; i += source.batchSize) {
    const event: SQSEvent = { Records: records.slice(i, i + source.batchSize) };
    const result = await invoke(fn, event, { awsRequestId: `${fn}-${i}`, getRemainingTimeInMillis: () => 600_000 });
    expect(source.partialFailures).toBe(true);
    expect(result, `${fn} batch ${i}`).toEqual({ batchItemFailures: [] });
  }
  return records.length;
}

/** S3's form-style key encoding in event notifications (space -> '+', '+' -> '%2B'). */
const encodeKey = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');

/** Puts an object into the bucket and, as S3 would, notifies the queues whose filter the template gives it. */
async function upload(key: string, body: Uint8Array): Promise<void> {
  const put = await stores.blobs.put(key, body, 'image/jpeg');
  const notifications = Object.values(resources).find((r: Cfn) => r.Type === 'Custom::S3BucketNotifications') as Cfn;
  for (const q of notifications.Properties.NotificationConfiguration.QueueConfigurations as Cfn[]) {
    const prefix = (q.Filter?.Key?.FilterRules ?? []).find((f: Cfn) => f.Name === 'prefix')?.Value ?? '';
    if (!q.Events.includes('s3:ObjectCreated:*') || !key.startsWith(prefix)) continue;
    const record = {
      eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: REGION, eventTime: new Date().toISOString(), eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AIDAEXAMPLE' }, requestParameters: { sourceIPAddress: '203.0.113.7' },
      responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S' },
      s3: {
        s3SchemaVersion: '1.0', configurationId: 'ingest',
        bucket: { name: bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeKey(key), size: body.length, eTag: put.etag, sequencer: '0055AED6DCD90281E5' },
      },
    };
    sqs.send(q.QueueArn['Fn::GetAtt'][0], JSON.stringify({ Records: [record] }));
  }
}

/** An HTTP API (payload 2.0) event for the template's route, with the claims as the JWT authorizer passes them. */
async function api(method: string, rawPath: string, opts: { body?: unknown; query?: string; groups?: string[] } = {}) {
  const route = Object.values(resources).find((r: Cfn) => r.Type === 'AWS::ApiGatewayV2::Route') as Cfn;
  const claims = {
    sub: '6f1c0e6a-0b7e-4b0e-9d7a-1e2f3a4b5c6d',
    email: 'owner@example.com',
    email_verified: true,
    'cognito:username': '6f1c0e6a-0b7e-4b0e-9d7a-1e2f3a4b5c6d',
    'cognito:groups': opts.groups ?? ['admin'],
  };
  const token = await signToken(claims);
  const now = Date.now();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.Properties.RouteKey,
    rawPath,
    rawQueryString: opts.query ?? '',
    ...(opts.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(opts.query)) } : {}),
    headers: {
      accept: 'application/json',
      authorization: `Bearer ${token}`,
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      host: 'box.execute-api.us-east-1.amazonaws.com',
      'x-forwarded-proto': 'https',
    },
    pathParameters: { proxy: rawPath.replace(/^\/api\//, '') },
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'box',
      // API Gateway hands the claims over as strings (arrays flattened to "[a b]").
      authorizer: { jwt: { claims: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(' ')}]` : String(v)])), scopes: null } },
      domainName: 'box.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'box',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'cloud-in-a-box' },
      requestId: `req-${now}-${Math.random().toString(36).slice(2)}`,
      routeKey: route.Properties.RouteKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  const res = await invoke('api', event, { awsRequestId: event.requestContext.requestId, getRemainingTimeInMillis: () => 15_000 });
  return { status: res.statusCode as number, body: res.body ? JSON.parse(res.isBase64Encoded ? Buffer.from(res.body, 'base64').toString() : res.body) : undefined };
}

beforeAll(async () => {
  s = synthWinnow({ stage: 'dev' });
  resources = s.template.toJSON().Resources;

  const dynamo = await startDynalite();
  sqs = await startSqsEmulator();
  bucket = resolveCfn({ Ref: logicalId(s.stack, s.stack.data.bucket) });
  const s3 = await startS3rver({ dir: await tempDir('box-s3'), bucket });
  closers.push(dynamo.close, s3.close, sqs.close);

  // Tables exactly as the template declares them (keys, attribute types, indexes), named by logical id.
  const ddb = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  for (const [id, r] of Object.entries(resources) as [string, Cfn][]) {
    if (r.Type !== 'AWS::DynamoDB::Table') continue;
    const p = r.Properties;
    await ddb.send(new CreateTableCommand({
      TableName: id,
      KeySchema: p.KeySchema,
      AttributeDefinitions: p.AttributeDefinitions,
      BillingMode: p.BillingMode,
      ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes } : {}),
    }));
  }
  ddb.destroy();

  // The user pool's keys, served where the API fetches them (the issuer in the tokens stays Cognito's).
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'box-key', alg: 'RS256', use: 'sig' };
  cognito = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '').split('.').pop();
    if (req.url === `/${POOL_ID}/.well-known/jwks.json`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else if (req.method === 'POST' && req.url === '/' && (target === 'AdminGetUser' || target === 'AdminListGroupsForUser')) {
      // The API checks the caller's user in the pool on every request (functions/auth/current-account.ts): the one
      // user of this test is an enabled owner.
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(target === 'AdminGetUser' ? { Username: 'owner@example.com', Enabled: true, UserStatus: 'CONFIRMED', UserAttributes: [] } : { Groups: [{ GroupName: 'admin' }] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => cognito.listen(0, '127.0.0.1', ok));
  closers.push(() => new Promise<void>((ok) => cognito.close(() => ok())));
  const issuer = `https://cognito-idp.${REGION}.amazonaws.com/${POOL_ID}`;
  signToken = (claims) =>
    new SignJWT({ ...claims, token_use: 'id', auth_time: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'RS256', kid: 'box-key' })
      .setIssuer(issuer)
      .setAudience(CLIENT_ID)
      .setSubject(String(claims.sub))
      .setIssuedAt()
      .setExpirationTime('30m')
      .sign(privateKey);
  endpoints = { s3: s3.endpoint, dynamodb: dynamo.endpoint, cognito: `http://127.0.0.1:${(cognito.address() as AddressInfo).port}` };

  // For the test's own look-ups: the same tables and bucket, through the adapters.
  const tables = environmentOf('trainer');
  stores = createAwsStores({
    region: REGION,
    endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    tables: { projects: tables.WINNOW_PROJECTS_TABLE, samples: tables.WINNOW_SAMPLES_TABLE, annotations: tables.WINNOW_ANNOTATIONS_TABLE, labelers: tables.WINNOW_LABELERS_TABLE },
    bucket,
  });
  closers.unshift(async () => destroyAwsClients(stores.clients));
});

afterAll(async () => {
  s?.cleanup();
  for (const close of closers) await close();
});

describe('cloud in a box', () => {
  it('tokens this test signs are what the template\'s JWT authorizer accepts', () => {
    const authorizer = Object.values(resources).find((r: Cfn) => r.Type === 'AWS::ApiGatewayV2::Authorizer') as Cfn;
    const jwt = authorizer.Properties.JwtConfiguration;
    expect(jwt.Audience.map(resolveCfn)).toEqual([CLIENT_ID]);
    expect(resolveCfn(jwt.Issuer)).toBe(`https://cognito-idp.${REGION}.amazonaws.com/${POOL_ID}`);
  });

  it('upload -> embedded -> labeled through the API -> ranked -> exported', async () => {
    // An owner creates the project through the API.
    const created = await api('POST', '/api/projects', { body: { id: 'garden', classes: ['daisy', 'sunflowers'] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // A labeler without the admin group cannot create one.
    expect((await api('POST', '/api/projects', { body: { id: 'other', classes: ['a', 'b'] }, groups: ['labeler'] })).status).toBe(403);

    // Bulk upload straight into the bucket (aws s3 sync), names with a space and a plus sign among them.
    const keys: string[] = [];
    for (const c of ['daisy', 'sunflowers']) {
      for (const [i, f] of readdirSync(path.join(FLOWERS, c)).filter((f) => f.endsWith('.jpg')).slice(0, 3).entries()) {
        const key = `uploads/garden/${c}/${i === 0 ? `my ${c}+1.jpg` : f}`;
        await upload(key, await readFile(path.join(FLOWERS, c, f)));
        keys.push(key);
      }
    }
    await upload('derived/garden/not-an-upload.jpg', new Uint8Array([1])); // outside the filter: no event
    expect(await deliver('ingest')).toBe(6);
    for (const key of keys) expect(await stores.samples.getImage('garden', imageIdFor(key)), key).toMatchObject({ status: 'ready' });

    // Ingest told the trainer (one message for the project), which ranks before any label.
    expect(await deliver('trainer')).toBe(1);
    const cold = await stores.rankings.get('garden');
    expect(cold).toMatchObject({ coldStart: true, labels: 0 });
    expect(cold!.sampleIds).toHaveLength(6);

    // Label through the API handler: lease 4 samples, label each by its folder.
    const next = await api('GET', '/api/projects/garden/next', { query: 'count=4' });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.samples).toHaveLength(4);
    for (const { sample } of next.body.samples as { sample: { sampleId: string; imageId: string; version: number } }[]) {
      const image = await stores.samples.getImage('garden', sample.imageId);
      const classIndex = image!.key.includes('/daisy/') ? 0 : 1;
      const saved = await api('POST', `/api/projects/garden/samples/${sample.sampleId}/annotations`, {
        body: { version: sample.version, requestId: `box-${sample.sampleId}`, classIndex },
      });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    }
    // Each label's trigger went out before its invocation returned; the trainer retrains once for them all.
    expect(await deliver('trainer')).toBe(4);
    const trained = await stores.rankings.get('garden');
    expect(trained).toMatchObject({ coldStart: false, labels: 4 });
    expect(trained!.generation).toBeGreaterThan(cold!.generation);
    expect(trained!.sampleIds).toHaveLength(2); // the unlabeled ones
    const project = await api('GET', '/api/projects/garden');
    expect(project.status).toBe(200);

    // Look-alikes through the API function (no trainer process beside it: it reads the embeddings itself): every other
    // image, most similar first.
    const asked = (next.body.samples as { sample: { sampleId: string } }[])[0].sample.sampleId;
    const similar = await api('GET', `/api/projects/garden/samples/${asked}/similar`, { query: 'k=5' });
    expect(similar.status, JSON.stringify(similar.body)).toBe(200);
    expect(similar.body.message).toBeUndefined();
    const found = similar.body.items as { sample: { sampleId: string }; similarity: number }[];
    expect(found.map((i) => i.sample.sampleId).sort()).toEqual(cold!.sampleIds.filter((id) => id !== asked).sort());
    expect(found.every((i, n) => i.similarity > 0 && i.similarity <= 1 && (n === 0 || i.similarity <= found[n - 1].similarity))).toBe(true);

    // Export: the API starts the job, the export function runs it, the API hands out the link.
    const started = await api('POST', '/api/projects/garden/exports', { body: { format: 'csv', images: false } });
    expect(started.status, JSON.stringify(started.body)).toBeLessThan(300);
    const exportId = started.body.exportId ?? started.body.export?.exportId;
    expect(await deliver('export')).toBe(1);
    const done = await api('GET', `/api/projects/garden/exports/${exportId}`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ state: 'done' });
    const csv = await (await fetch(done.body.url ?? done.body.downloadUrl)).text();
    expect(csv.trim().split('\n')).toHaveLength(1 + 4); // header + the 4 labeled images
  });

  // Goes on from the project the test above built.
  it('deletions: the API only queues them on the export queue; the export function deletes (an image, then the project)', async () => {
    const [image] = (await stores.samples.listImages('garden', { limit: 1 })).items;
    const started = await api('DELETE', `/api/projects/garden/images/${image.imageId}`);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(await stores.blobs.head(image.key)).toBeDefined(); // the API's process is frozen after it answers: nothing ran there
    expect(await deliver('export')).toBe(1);
    expect((await api('GET', started.body.statusUrl)).body).toMatchObject({ status: 'done', deleted: { images: 1 } });
    expect(await stores.samples.getImage('garden', image.imageId)).toBeUndefined();
    expect(await stores.blobs.head(image.key)).toBeUndefined();

    const project = await api('DELETE', '/api/projects/garden', { body: { confirm: 'garden' } });
    expect(project.status, JSON.stringify(project.body)).toBe(202);
    expect((await api('GET', '/api/projects/garden')).status).toBe(404);
    expect(await deliver('export')).toBe(1);
    expect((await api('GET', project.body.statusUrl)).body).toMatchObject({ status: 'done' });
    for (const prefix of ['uploads/garden/', 'derived/garden/', 'embeddings/garden/', 'exports/garden/', 'deletions/garden/']) {
      expect((await stores.blobs.list(prefix)).items, prefix).toEqual([]);
    }
    expect((await stores.samples.listSamples('garden')).items).toEqual([]);
  });
});
