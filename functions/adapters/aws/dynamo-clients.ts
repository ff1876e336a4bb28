// The DynamoDB half of the AWS clients (clients.ts), on its own so that the local API's store thread loads only
// what it uses.

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { CachedDocumentClient } from './document-client.js';
import { KeyedSha256 } from './keyed-sha256.js';

/** What the DynamoDB clients are made from (a part of clients.ts's AwsConfig). */
export interface DynamoClientConfig {
  region: string;
  endpoints?: { dynamodb?: string };
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * The SDK's logger middleware builds a redacted copy of every request and response (whole items, whole batch reads)
 * for its logger even when that logger discards everything, as the default one does: a large share of the CPU per
 * DynamoDB call. Winnow passes no logger, so the middleware only costs.
 */
export function withoutLogging<T extends { middlewareStack: { remove(name: string): boolean } }>(client: T): T {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/**
 * Sockets per emulator endpoint. The SDK's default pool of 50 suits a Lambda (one request at a time); the local API
 * serves every labeler from one process, and requests beyond the pool would queue inside the SDK.
 */
const LOCAL_MAX_SOCKETS = 256;

/**
 * The DynamoDB emulator's endpoint as the SDK would resolve it for every request (url, no properties), given once:
 * resolving it through the endpoint rules each time costs as much as a quarter of signing. Not for S3, whose rules
 * put the bucket into the path.
 */
function fixedEndpoint(endpoint: string) {
  const resolved = { url: new URL(endpoint), properties: {}, headers: {} };
  return () => resolved;
}

/**
 * One signer for every request to the DynamoDB emulator, whose keys are fixed for the stack's life. Without it the
 * SDK builds a new signer from a copy of the whole client configuration for each request.
 */
function fixedSigner(region: string, credentials: NonNullable<DynamoClientConfig['credentials']>) {
  return new SignatureV4({ service: 'dynamodb', region, credentials, sha256: KeyedSha256, uriEscapePath: true });
}

export function createDynamoClients(config: DynamoClientConfig): { dynamodb: DynamoDBClient; doc: DynamoDBDocumentClient } {
  const endpoint = config.endpoints?.dynamodb;
  const dynamoConfig: DynamoDBClientConfig = {
    region: config.region,
    endpoint,
    credentials: config.credentials,
    sha256: KeyedSha256,
    ...(endpoint ? { requestHandler: { httpAgent: { keepAlive: true, maxSockets: LOCAL_MAX_SOCKETS } }, endpointProvider: fixedEndpoint(endpoint) } : {}),
    ...(endpoint && config.credentials ? { signer: fixedSigner(config.region, config.credentials) } : {}),
  };
  const prepare = (client: DynamoDBClient) => {
    withoutLogging(client);
    // The emulator reads no user agent, and no Lambda trace id is ever there to pass on: both only cost per request.
    if (endpoint) for (const name of ['getUserAgentMiddleware', 'recursionDetectionMiddleware']) client.middlewareStack.remove(name);
  };
  const dynamodb = new DynamoDBClient(dynamoConfig);
  prepare(dynamodb);
  // Optional domain fields arrive as `undefined`; DynamoDB has no such value, so they are simply not stored.
  const doc = new CachedDocumentClient(dynamodb, dynamoConfig, { marshallOptions: { removeUndefinedValues: true } }, prepare);
  return { dynamodb, doc };
}
