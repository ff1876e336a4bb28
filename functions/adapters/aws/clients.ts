// Composition of the AWS adapters: the same code talks to AWS in the cloud and to the emulators locally
// (dynalite or DynamoDB Local, s3rver), which differ only by endpoint and dummy credentials.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock, type Clock, type Stores } from '../../domain/ports.js';
import { shardEmbeddings } from '../embeddings/store.js';
import { DynamoAnnotationStore } from './annotations.js';
import { S3BlobStore } from './blobs.js';
import { DynamoLabelerStore } from './labelers.js';
import { DynamoProjectStore } from './projects.js';
import { DynamoRankingStore } from './rankings.js';
import { createDynamoClients, withoutLogging } from './dynamo-clients.js';
import { KeyedSha256 } from './keyed-sha256.js';
import { DynamoSampleStore } from './samples.js';
import type { TableNames } from './schema.js';

export { ensureBucket, ensureTables } from './provision.js';

export interface AwsConfig {
  region: string;
  /** Emulator endpoints; absent in the cloud. */
  endpoints?: { dynamodb?: string; s3?: string };
  /** Absent in the cloud (the function's role); dummy keys for the emulators. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  tables: TableNames;
  bucket: string;
  clock?: Clock;
}

export interface AwsClients {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  s3: S3Client;
}

export interface AwsStores extends Stores {
  /** The SDK clients behind the stores, for provisioning and for `destroy()` when a test or the local stack stops. */
  clients: AwsClients;
}

export function createS3Client(config: Pick<AwsConfig, 'region' | 'credentials'> & { endpoint?: string }): S3Client {
  return withoutLogging(new S3Client({
    region: config.region,
    sha256: KeyedSha256,
    endpoint: config.endpoint,
    credentials: config.credentials,
    // s3rver serves buckets by path, not by virtual host.
    forcePathStyle: config.endpoint !== undefined,
    // Default checksums stream aws-chunked bodies, which s3rver stores verbatim, framing included (corrupt objects).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK's standard retries (3 attempts) cover a connection dropped before the answer; a GetObject body cut
    // while it streams is read again by get-object.ts (test/unit/s3-dropped-socket.test.ts).
  }));
}

export function createAwsClients(config: Pick<AwsConfig, 'region' | 'endpoints' | 'credentials'>): AwsClients {
  const s3 = createS3Client({ region: config.region, credentials: config.credentials, endpoint: config.endpoints?.s3 });
  return { ...createDynamoClients(config), s3 };
}

/**
 * `via.doc` gives the document client the stores send through, from the in-process one (the local API's store
 * thread); `clients` stay the in-process ones.
 */
export function createAwsStores(config: AwsConfig, via: { doc?: (inProcess: DynamoDBDocumentClient) => DynamoDBDocumentClient } = {}): AwsStores {
  const clients = createAwsClients(config);
  const { s3 } = clients;
  const doc = via.doc?.(clients.doc) ?? clients.doc;
  const clock = config.clock ?? systemClock;
  const blobs = new S3BlobStore(s3, config.bucket, clock);
  return {
    projects: new DynamoProjectStore(doc, config.tables.projects),
    samples: new DynamoSampleStore(doc, config.tables.samples, clock),
    annotations: new DynamoAnnotationStore(doc, config.tables.annotations),
    labelers: new DynamoLabelerStore(doc, config.tables.labelers),
    rankings: new DynamoRankingStore(doc, config.tables.samples),
    blobs,
    embeddings: shardEmbeddings(blobs),
    clock,
    clients,
  };
}

/** Closes the clients' sockets so emulators can shut down and the process can exit. */
export function destroyAwsClients(clients: AwsClients): void {
  clients.doc.destroy();
  clients.dynamodb.destroy();
  clients.s3.destroy();
}
