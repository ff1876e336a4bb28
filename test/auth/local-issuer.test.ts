// The local issuer as `npm start --auth` runs it: a key per data folder that survives restarts, users stored
// as scrypt hashes, sign-in over HTTP.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalIssuer } from '../../functions/auth/local-issuer.js';
import { generatePassword, passwordProblems } from '../../functions/auth/password.js';
import { addUser, listUsers, setPassword } from '../../functions/auth/users.js';
import { createJwtAuthenticate } from '../../functions/auth/verify.js';
import { bearer, login, removeTempDataDirs, serveIssuer, tempDataDir, type ServedIssuer } from './support.js';

const PASSWORD = 'Correct-horse-42';
const mode = async (file: string) => (await stat(file)).mode & 0o777;

afterAll(removeTempDataDirs);

describe('signing key', () => {
  it('is created on first start, kept across restarts, and private to its owner', async () => {
    const dataDir = await tempDataDir();
    const first = await openLocalIssuer({ dataDir, origin: 'http://127.0.0.1:8787' });
    const again = await openLocalIssuer({ dataDir, origin: 'http://127.0.0.1:8787' });
    expect(again.kid).toBe(first.kid);
    expect(again.jwks()).toEqual(first.jwks());
    expect(await mode(path.join(dataDir, 'auth/signing-key.pem'))).toBe(0o600);
    expect(await mode(path.join(dataDir, 'auth'))).toBe(0o700);
  });

  it('differs between data folders', async () => {
    const a = await openLocalIssuer({ dataDir: await tempDataDir(), origin: 'http://127.0.0.1:8787' });
    const b = await openLocalIssuer({ dataDir: await tempDataDir(), origin: 'http://127.0.0.1:8787' });
    expect(a.kid).not.toBe(b.kid);
    expect(a.jwks().keys[0].n).not.toBe(b.jwks().keys[0].n);
  });

  it('publishes only the public half', async () => {
    const issuer = await openLocalIssuer({ dataDir: await tempDataDir(), origin: 'http://127.0.0.1:8787' });
    const [key] = issuer.jwks().keys;
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: issuer.kid });
    expect(key).not.toHaveProperty('d');
  });
});

describe('users', () => {
  it('are stored with scrypt hashes, never the password, in a file only the owner reads', async () => {
    const dataDir = await tempDataDir();
    await addUser(dataDir, { username: 'Ada', password: PASSWORD, groups: ['admin'] });
    const file = path.join(dataDir, 'auth/users.json');
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(JSON.parse(text).users[0].password).toMatchObject({ scheme: 'scrypt', N: 2 ** 15 });
    expect(await mode(file)).toBe(0o600);
    expect(await listUsers(dataDir)).toEqual([expect.objectContaining({ username: 'ada', groups: ['admin'] })]);
    expect(JSON.stringify(await listUsers(dataDir))).not.toContain('scrypt');
  });

  it('refuse weak passwords, saying what is missing', async () => {
    const dataDir = await tempDataDir();
    await expect(addUser(dataDir, { username: 'lin', password: 'short' })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('at least 12 characters'),
    });
    await expect(addUser(dataDir, { username: 'lin', password: 'alllowercaseletters' })).rejects.toThrow(
      /an uppercase letter, a digit, a symbol/,
    );
    expect(passwordProblems(generatePassword())).toEqual([]);
  });

  it('refuse a second user with the same name, whatever its case', async () => {
    const dataDir = await tempDataDir();
    await addUser(dataDir, { username: 'lin', password: PASSWORD });
    await expect(addUser(dataDir, { username: ' LIN ', password: PASSWORD })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('already exists'),
    });
    expect(await listUsers(dataDir)).toEqual([expect.objectContaining({ username: 'lin', groups: ['labeler'] })]);
  });
});

describe('signing in over HTTP', () => {
  let dataDir: string;
  let served: ServedIssuer;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    await addUser(dataDir, { username: 'lin', password: PASSWORD });
    served = await serveIssuer(dataDir, { throttle: { maxFailures: 3 } });
  });
  afterAll(() => served?.close());

  it('tells the web app how to sign in', async () => {
    const config = await (await fetch(`${served.origin}/auth/config`)).json();
    expect(config).toEqual({ mode: 'local', issuer: `${served.origin}/auth`, clientId: served.issuer.clientId });
  });

  it('gives the same 401 for a wrong password and an unknown user', async () => {
    const wrong = await login(served.origin, 'lin', 'Wrong-horse-42');
    const unknown = await login(served.origin, 'nobody', PASSWORD);
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.json).toMatchObject({ code: 'unauthorized', message: 'wrong username or password' });
    expect(unknown.json.message).toBe(wrong.json.message);
  });

  it('returns an ID token that the API verifier accepts', async () => {
    const ok = await login(served.origin, 'LIN', PASSWORD);
    expect(ok.status).toBe(200);
    expect(ok.json.expiresIn).toBe(3600);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const authenticate = createJwtAuthenticate({ issuer: served.issuer.issuer, clientId: served.issuer.clientId });
    expect(await authenticate(bearer(ok.json.idToken))).toEqual({ userId: 'lin', groups: ['labeler'] });
  });

  it('lets users added or changed while the server runs sign in at once', async () => {
    await addUser(dataDir, { username: 'ada', password: PASSWORD, groups: ['admin', 'labeler'] });
    expect((await login(served.origin, 'ada', PASSWORD)).status).toBe(200);
    await setPassword(dataDir, 'ada', 'Another-horse-43');
    expect((await login(served.origin, 'ada', PASSWORD)).status).toBe(401);
    expect((await login(served.origin, 'ada', 'Another-horse-43')).status).toBe(200);
  });

  it('accepts tokens issued before a restart', async () => {
    const { json } = await login(served.origin, 'lin', PASSWORD);
    const restarted = await openLocalIssuer({ dataDir, origin: served.origin });
    const authenticate = createJwtAuthenticate({
      issuer: restarted.issuer,
      clientId: restarted.clientId,
      jwks: restarted.jwks(),
    });
    expect(await authenticate(bearer(json.idToken))).toMatchObject({ userId: 'lin' });
  });

  it('stops a user name after repeated failures, even with the right password', async () => {
    for (let i = 0; i < 3; i++) expect((await login(served.origin, 'lin', `Guess-number-${i}`)).status).toBe(401);
    const refused = await login(served.origin, 'lin', PASSWORD);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.json.message).toMatch(/too many failed sign-ins/);
    // Other users are not affected.
    expect((await login(served.origin, 'ada', 'Another-horse-43')).status).toBe(200);
  });

  it('rejects a sign-in that is not JSON', async () => {
    const form = await fetch(`${served.origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=lin&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(form.status).toBe(415);
  });
});
