// Every token goes through the real verifier (aws-jwt-verify), which downloads the issuer's JWKS over HTTP.

import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, base64url, decodeJwt, exportJWK } from 'jose';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { openLocalIssuer } from '../../functions/auth/local-issuer.js';
import { addUser, findUser } from '../../functions/auth/users.js';
import { createJwtAuthenticate } from '../../functions/auth/verify.js';
import type { Authenticate } from '../../functions/api/types.js';
import { bearer, removeTempDataDirs, serveIssuer, tempDataDir, type ServedIssuer } from './support.js';

const PASSWORD = 'Correct-horse-42';
let served: ServedIssuer;
let dataDir: string;
let authenticate: Authenticate;

const rejection = (request: Request) =>
  authenticate(request).then(
    () => ({ code: 'accepted', message: '' }),
    (err) => ({ code: err.code as string, message: err.message as string }),
  );

const refused = (message: string) => ({ code: 'unauthorized', message });

async function tokenFor(username: string) {
  return served.issuer.issueIdToken((await findUser(dataDir, username))!);
}

beforeAll(async () => {
  dataDir = await tempDataDir();
  await addUser(dataDir, { username: 'ada', password: PASSWORD, groups: ['admin'] });
  await addUser(dataDir, { username: 'lin', password: PASSWORD, groups: ['labeler'] });
  served = await serveIssuer(dataDir);
  authenticate = createJwtAuthenticate({ issuer: served.issuer.issuer, clientId: served.issuer.clientId });
});
afterAll(async () => {
  await served?.close();
  await removeTempDataDirs();
});

describe('a valid local ID token', () => {
  it('yields the user and their groups', async () => {
    expect(await authenticate(bearer(await tokenFor('ada')))).toEqual({ userId: 'ada', groups: ['admin'] });
    expect(await authenticate(bearer(await tokenFor('lin')))).toEqual({ userId: 'lin', groups: ['labeler'] });
  });

  it('is a Cognito-shaped ID token valid for one hour', async () => {
    const claims = decodeJwt(await tokenFor('ada'));
    expect(claims).toMatchObject({
      iss: `${served.origin}/auth`,
      aud: served.issuer.clientId,
      token_use: 'id',
      'cognito:username': 'ada',
      'cognito:groups': ['admin'],
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });
});

describe('refused requests', () => {
  it('without a token', async () => {
    expect(await rejection(new Request('http://127.0.0.1/api/projects'))).toMatchObject({ code: 'unauthorized' });
    expect(
      await rejection(new Request('http://127.0.0.1/api/projects', { headers: { authorization: 'Basic YWRhOng=' } })),
    ).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('Bearer') });
  });

  it('with an expired token', async () => {
    const past = await openLocalIssuer({ dataDir, origin: served.origin, now: () => Date.now() - 2 * 3600_000 });
    const token = await past.issueIdToken((await findUser(dataDir, 'ada'))!);
    expect(await rejection(bearer(token))).toEqual(refused('the token has expired; sign in again'));
  });

  it('with a token from another data folder (another key, same claims)', async () => {
    const otherDir = await tempDataDir();
    const foreign = await openLocalIssuer({ dataDir: otherDir, origin: served.origin });
    const token = await foreign.issueIdToken((await findUser(dataDir, 'ada'))!);
    expect(decodeJwt(token)).toMatchObject({ iss: served.issuer.issuer, aud: served.issuer.clientId });
    expect(await rejection(bearer(token))).toEqual(refused('the token is signed by an unknown key'));
  });

  it('with a token forged under the real key id', async () => {
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    const real = decodeJwt(await tokenFor('lin'));
    const forged = await new SignJWT({ ...real, 'cognito:groups': ['admin'] })
      .setProtectedHeader({ alg: 'RS256', kid: served.issuer.kid })
      .sign(privateKey);
    expect(await rejection(bearer(forged))).toEqual(refused('the token signature does not verify'));
  });

  it('with a token from another issuer', async () => {
    const elsewhere = await openLocalIssuer({ dataDir, origin: 'http://127.0.0.1:1' });
    const token = await elsewhere.issueIdToken((await findUser(dataDir, 'ada'))!);
    expect(await rejection(bearer(token))).toEqual(refused('the token comes from another issuer'));
  });

  it('with a token for another client', async () => {
    const otherClient = await openLocalIssuer({ dataDir, origin: served.origin, clientId: 'some-other-app' });
    const token = await otherClient.issueIdToken((await findUser(dataDir, 'ada'))!);
    expect(await rejection(bearer(token))).toEqual(refused('the token was issued to another client'));
  });

  it('with a tampered payload', async () => {
    const [header, , signature] = (await tokenFor('lin')).split('.');
    const claims = { ...decodeJwt(await tokenFor('lin')), 'cognito:groups': ['admin'] };
    const tampered = [header, base64url.encode(JSON.stringify(claims)), signature].join('.');
    expect(await rejection(bearer(tampered))).toEqual(refused('the token signature does not verify'));
  });

  it('with an unsigned token (alg none)', async () => {
    const [, payload, signature] = (await tokenFor('lin')).split('.');
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: served.issuer.kid, typ: 'JWT' }));
    expect(await rejection(bearer(`${header}.${payload}.`))).toEqual(refused('the token is malformed'));
    // Keeping the old signature does not help either.
    expect(await rejection(bearer(`${header}.${payload}.${signature}`))).toEqual(
      refused('the token is not signed with an accepted algorithm'),
    );
  });

  it('with garbage in place of a token', async () => {
    expect(await rejection(bearer('not.a.jwt'))).toEqual({ code: 'unauthorized', message: 'the token is malformed' });
  });
});

describe('the API behind the verifier', () => {
  it('answers 401 without a token and serves the signed-in user with one', async () => {
    const stores = createMemoryStores();
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate });
    const anonymous = await app.request('/api/projects');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'unauthorized' });
    const signedIn = await app.request('/api/projects', {
      headers: { authorization: `Bearer ${await tokenFor('ada')}` },
    });
    expect(signedIn.status).toBe(200);
  });
});

describe('in the cloud (Cognito user pool, keys given up front)', () => {
  const userPoolId = 'eu-west-1_Abc123XyZ';
  const clientId = 'web-client-id';
  const iss = `https://cognito-idp.eu-west-1.amazonaws.com/${userPoolId}`;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  let cognito: Authenticate;

  beforeAll(async () => {
    const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    const { kty, n, e } = await exportJWK(publicKey);
    const jwk = { kty: kty!, n: n!, e: e!, kid: 'pool-key', alg: 'RS256', use: 'sig' };
    cognito = createJwtAuthenticate({ userPoolId, clientId, jwks: { keys: [jwk] } });
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'pool-key' })
        .setIssuer(iss)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
  });

  it('maps cognito:username and cognito:groups of an ID token', async () => {
    const token = await sign({
      sub: 'b1c2',
      aud: clientId,
      token_use: 'id',
      'cognito:username': 'b1c2',
      'cognito:groups': ['labeler'],
      email: 'lin@example.com',
    });
    expect(await cognito(bearer(token))).toEqual({ userId: 'b1c2', groups: ['labeler'] });
  });

  it('refuses access tokens and tokens for another client', async () => {
    const access = await sign({ sub: 'b1c2', client_id: clientId, token_use: 'access', username: 'b1c2' });
    await expect(cognito(bearer(access))).rejects.toMatchObject(refused('the token is not an ID token'));
    const other = await sign({ sub: 'b1c2', aud: 'another-client', token_use: 'id', 'cognito:username': 'b1c2' });
    await expect(cognito(bearer(other))).rejects.toMatchObject(refused('the token was issued to another client'));
  });
});
