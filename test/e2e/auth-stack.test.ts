// The local stack with sign-in on: the same verification path as the cloud, against the local issuer.

import { afterAll, describe, expect, it } from 'vitest';
import { localTarget } from '../../functions/cli/stack-client.js';
import { addUser } from '../../functions/auth/users.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { startTestStack, tempDir } from '../support/stack.js';

const PASSWORD = 'Tulips-in-April-2026';

describe('local stack with sign-in', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.close());

  it('requires a token from the local issuer, and the CLI signs in as a local admin', async () => {
    const dataDir = await tempDir('auth-stack');
    await addUser(dataDir, { username: 'owner', password: PASSWORD, groups: ['admin'] });
    stack = await startTestStack(dataDir, { auth: true });

    const anonymous = await fetch(`${stack.url}/api/projects`, { headers: { 'x-winnow-user': 'owner' } });
    expect(anonymous.status).toBe(401);
    expect(await (await fetch(`${stack.url}/auth/config`)).json()).toMatchObject({ mode: 'local', issuer: `${stack.url}/auth` });

    const wrong = await fetch(`${stack.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'owner', password: 'nope' }) });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${stack.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'owner', password: PASSWORD }) });
    const { idToken } = (await login.json()) as { idToken: string };
    const created = await fetch(`${stack.url}/api/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'secure', classes: ['a', 'b'] }),
    });
    expect(created.status).toBe(201);
    expect((await created.json()).project.createdBy).toBe('owner');

    const cli = await localTarget(dataDir);
    expect(cli.headers.authorization).toMatch(/^Bearer /);
    const listed = await fetch(`${stack.url}/api/projects`, { headers: cli.headers });
    expect((await listed.json()).projects.map((p: { id: string }) => p.id)).toEqual(['secure']);
  });

  it('says sign-in is off when it is', async () => {
    const open = await startTestStack(await tempDir('noauth'));
    try {
      expect(await (await fetch(`${open.url}/auth/config`)).json()).toEqual({ mode: 'none' });
    } finally {
      await open.close();
    }
  });
});
