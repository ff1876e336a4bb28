// Sign-in throttling counts failures per client address AND account: an attacker hammering an account from one
// address is refused, while the owner signing in from another address still gets in with the right password.
// Real HTTP on loopback; the clients connect from different loopback addresses (127.0.0.2, 127.0.0.3, ...).

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../functions/auth/users.js';
import { removeTempDataDirs, serveIssuer, tempDataDir, type ServedIssuer } from './support.js';

const PASSWORD = 'Correct-Horse-42!';

describe('sign-in throttle per client and account', () => {
  let served: ServedIssuer;
  let port: number;

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    await addUser(dataDir, { username: 'olga', password: PASSWORD, groups: ['admin'] });
    await addUser(dataDir, { username: 'lars', password: PASSWORD, groups: ['labeler'] });
    served = await serveIssuer(dataDir, { throttle: { maxFailures: 5, maxClientFailures: 12 } });
    port = Number(new URL(served.origin).port);
  });
  afterAll(async () => {
    await served.close();
    await removeTempDataDirs();
  });

  /** POST /auth/login from the given local (client) address. */
  const login = (from: string, username: string, password: string) =>
    new Promise<{ status: number; json: any; retryAfter?: string }>((resolve, reject) => {
      const body = JSON.stringify({ username, password });
      const req = request(
        { host: '127.0.0.1', port, localAddress: from, method: 'POST', path: '/auth/login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text), retryAfter: res.headers['retry-after'] as string | undefined }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('refuses the attacking address, but the owner signs in from another while the attack goes on', async () => {
    const attacker = '127.0.0.2';
    const owner = '127.0.0.3';
    for (let i = 0; i < 5; i++) expect((await login(attacker, 'olga', `Guess-number-${i}!`)).status).toBe(401);
    const refused = await login(attacker, 'olga', `Guess-number-5!`);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.json).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/too many failed sign-ins/), requestId: expect.any(String) });
    // Even the right password from the attacking address is refused until the window passes...
    expect((await login(attacker, 'olga', PASSWORD)).status).toBe(429);
    // ...while the owner, from a fresh address, gets in, between and after more attempts of the attacker.
    const ok = await login(owner, 'olga', PASSWORD);
    expect(ok.status).toBe(200);
    expect(ok.json.idToken).toEqual(expect.any(String));
    expect((await login(attacker, 'olga', 'Guess-number-6!')).status).toBe(429);
    expect((await login(owner, 'olga', PASSWORD)).status).toBe(200);
    // The owner's own typo does not count against the attacker's lock, nor theirs against the owner.
    expect((await login(owner, 'olga', 'Typo-password-1!')).status).toBe(401);
    expect((await login(owner, 'olga', PASSWORD)).status).toBe(200);
  });

  it('refuses an address that sprays many accounts, without locking those accounts for others', async () => {
    const sprayer = '127.0.0.4';
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await login(sprayer, `user-${i}`, 'Spray-password-1!')).status);
    expect(statuses.slice(0, 12).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
    // The sprayer is refused on a real account too; the account's owner from elsewhere is not.
    expect((await login(sprayer, 'lars', PASSWORD)).status).toBe(429);
    expect((await login('127.0.0.5', 'lars', PASSWORD)).status).toBe(200);
  });
});
