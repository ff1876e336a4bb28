// The SHA-256 the AWS clients sign with (adapters/aws/keyed-sha256.ts: HMAC keys kept as KeyObjects) gives the SDK's
// own digests and signatures, and clients built by createAwsClients use it: a request it signs is one the
// emulators' SigV4 guard accepts, and a wrong secret is still refused.

import { createRequire } from 'node:module';
import { Sha256 as SdkSha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../functions/adapters/aws/clients.js';
import { KeyedSha256 } from '../../functions/adapters/aws/keyed-sha256.js';

const require = createRequire(import.meta.url);
const { checkSigV4, sha256Hex } = require('../../functions/local/emulator-guard.cjs') as {
  checkSigV4: (req: { method: string; url: string; headers: Record<string, string>; payloadHash?: string }, creds: { accessKeyId: string; secretAccessKey: string }, now?: number) => string | undefined;
  sha256Hex: (s: string | Uint8Array) => string;
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function digestOf(Ctor: new (secret?: string | Uint8Array) => { update(d: string | Uint8Array): void; digest(): Promise<Uint8Array> }, secret: string | Uint8Array | undefined, parts: (string | Uint8Array)[]) {
  const h = new Ctor(secret);
  for (const p of parts) h.update(p);
  return hex(await h.digest());
}

describe('KeyedSha256', () => {
  it('gives the same hashes and HMACs as the SDK for string, byte and empty keys, with the key used again', async () => {
    const data = fc.oneof(fc.string(), fc.uint8Array({ maxLength: 300 }));
    await fc.assert(
      fc.asyncProperty(fc.option(fc.oneof(fc.string({ minLength: 1 }), fc.uint8Array({ maxLength: 80 })), { nil: undefined }), fc.array(data, { maxLength: 4 }), async (secret, parts) => {
        const expected = await digestOf(SdkSha256 as never, secret, parts);
        expect(await digestOf(KeyedSha256, secret, parts)).toBe(expected);
        expect(await digestOf(KeyedSha256, secret, parts)).toBe(expected); // the cached key gives the same
      }),
      { numRuns: 300 },
    );
  });

  it('keys a reused byte array by its bytes at first use: a key object is never shared between different keys', async () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    expect(await digestOf(KeyedSha256, a, ['x'])).toBe(await digestOf(SdkSha256 as never, a, ['x']));
    expect(await digestOf(KeyedSha256, b, ['x'])).toBe(await digestOf(SdkSha256 as never, b, ['x']));
    expect(await digestOf(KeyedSha256, a, ['x'])).not.toBe(await digestOf(KeyedSha256, b, ['x']));
  });

  it('signs requests exactly as the SDK does, and the emulator guard accepts them (a wrong secret is refused)', async () => {
    const credentials = { accessKeyId: 'WINNOWKEY', secretAccessKey: 'per-start-secret' };
    const at = new Date(Date.UTC(2026, 11, 6, 8, 0, 0));
    const body = JSON.stringify({ TableName: 'winnow-samples', Key: { projectId: { S: 'p' }, sk: { S: 's#1' } } });
    const request = () => ({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8789,
      path: '/',
      headers: { host: '127.0.0.1:8789', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body,
    });
    const signer = (sha256: unknown, creds = credentials) => new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'dynamodb', sha256: sha256 as never });
    const ours = await signer(KeyedSha256).sign(request(), { signingDate: at });
    const sdk = await signer(SdkSha256).sign(request(), { signingDate: at });
    expect(ours.headers.authorization).toBe(sdk.headers.authorization);
    const again = await signer(KeyedSha256).sign(request(), { signingDate: at });
    expect(again.headers.authorization).toBe(sdk.headers.authorization);

    const check = (signed: typeof ours) =>
      checkSigV4({ method: 'POST', url: '/', headers: signed.headers as Record<string, string>, payloadHash: sha256Hex(body) }, credentials, at.getTime());
    expect(check(ours)).toBeUndefined();
    const wrong = await signer(KeyedSha256, { ...credentials, secretAccessKey: 'not-the-secret' }).sign(request(), { signingDate: at });
    expect(check(wrong)).toMatch(/signature/i);
  });

  it('is what the DynamoDB and S3 clients sign with', () => {
    const clients = createAwsClients({ region: 'us-east-1', endpoints: { dynamodb: 'http://127.0.0.1:1', s3: 'http://127.0.0.1:2' }, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(clients.dynamodb.config.sha256).toBe(KeyedSha256);
    expect(clients.s3.config.sha256).toBe(KeyedSha256);
    destroyAwsClients(clients);
  });
});
