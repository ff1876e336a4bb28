// The local issuer's RS256 key: generated on first start, one per data folder, kept in
// `<dataDir>/auth/signing-key.pem` (mode 0600) and never in the repository. Tokens from another folder's
// issuer therefore never verify here.

import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JwkWithKid } from 'aws-jwt-verify/jwk';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { createSecretFileOnce, ensureAuthDir } from './files.js';

export interface SigningKey {
  privateKey: KeyObject;
  /** The public half as published in the JWKS (with kid, alg and use). */
  publicJwk: JwkWithKid;
  kid: string;
}

export const signingKeyFile = (authDirectory: string) => path.join(authDirectory, 'signing-key.pem');

function newKeyPem(): Promise<string> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      },
      (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey)),
    ),
  );
}

async function readPem(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const file = signingKeyFile(await ensureAuthDir(dataDir));
  if ((await readPem(file)) === undefined) await createSecretFileOnce(file, await newKeyPem());
  const pem = (await readPem(file))!;
  // A key copied in by hand may carry a wider mode; it is a secret either way.
  await chmod(file, 0o600);
  const privateKey = createPrivateKey(pem);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  // The RFC 7638 thumbprint names the key, so the kid changes exactly when the key does.
  const kid = await calculateJwkThumbprint(jwk);
  const publicJwk = { kty: jwk.kty!, n: jwk.n!, e: jwk.e!, kid, alg: 'RS256', use: 'sig' };
  return { privateKey, kid, publicJwk };
}
