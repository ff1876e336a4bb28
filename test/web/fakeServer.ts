// A plain `fetch` function that answers the web app's HTTP contract from memory, for view tests: samples with
// versions, leases handed out in order, idempotent annotate/undo by requestId, progress and history.
// It is deliberately small; the real API has its own tests.

import type { Project, Sample } from '../../web/src/api/types.js';

export interface FakeRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: any;
}

export interface FakeServerOptions {
  classes?: string[];
  samples?: number;
  taskType?: Project['taskType'];
  quality?: boolean;
  /** Sign-in on: `/auth/config` names the local issuer, `/auth/login` checks these passwords, and every API call
   * needs a token it issued. */
  signIn?: { users: Record<string, string> };
  /** The cloud: `/config.json` names a Cognito user pool, and the Cognito endpoint checks these passwords
   * (users listed in `mustChangePassword` first get NEW_PASSWORD_REQUIRED). */
  cognito?: { region: string; users: Record<string, string>; mustChangePassword?: string[] };
}

/** An unsigned JWT with Cognito's claims: the app only reads it; the fake server checks it by identity. */
export function fakeIdToken(username: string, expiresIn = 3600): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + expiresIn;
  return `${b64({ alg: 'none' })}.${b64({ 'cognito:username': username, 'cognito:groups': ['labeler'], exp, nonce: Math.random() })}.sig`;
}

export function createFakeServer(options: FakeServerOptions = {}) {
  const classes = options.classes ?? ['daisy', 'rose', 'tulip'];
  const project: Project = {
    id: 'flowers',
    name: 'Flowers',
    classes,
    taskType: options.taskType ?? 'single-label',
    confidenceLevels: [0, 0.25, 0.5, 0.75, 1],
    allowAmbiguous: true,
    strategy: 'upload-order',
    overlap: 1,
    createdAt: '2025-01-01T00:00:00Z',
    createdBy: 'owner',
    version: 1,
  };
  const samples: Sample[] = Array.from({ length: options.samples ?? 8 }, (_, i) => ({
    projectId: project.id,
    sampleId: `s${i + 1}`,
    imageId: `s${i + 1}`, // as in ingest: the whole-image sample has the image's id
    kind: 'image',
    version: 1,
    labeledBy: [],
    order: String(i).padStart(4, '0'),
    queueKey: String(i).padStart(4, '0'),
    // The project model's view: sure about every second sample (Accept offered), unsure about the others.
    suggestions: [{ classIndex: i % classes.length, name: classes[i % classes.length], probability: i % 2 === 1 ? 0.95 : 0.6 }],
    // A tagger's guess, with a name that is one of the project's classes: shown apart, never accepted.
    tags: [{ classIndex: -1, name: 'daisy', probability: 0.97 }],
    ...(options.taskType === 'box-review'
      ? {
          proposals: [
            { box: [10, 10, 110, 110], classIndex: 0, source: 'model', score: 0.9 },
            { box: [200, 50, 300, 200], classIndex: -1, source: 'model', score: 0.6 },
          ],
        }
      : {}),
    createdAt: '2025-01-01T00:00:00Z',
  })) as Sample[];
  const replies = new Map<string, { status: number; body: unknown }>();
  const history: string[] = [];
  const requests: FakeRequest[] = [];
  /** Requests matching this predicate fail with a network error (the tab lost the connection). */
  let failWhen: ((r: FakeRequest) => boolean) | undefined;
  /** Requests matching this predicate wait until `release()` is called. */
  let holdWhen: ((r: FakeRequest) => boolean) | undefined;
  let held: (() => void)[] = [];
  /** Tokens the server accepts, and whose they are (revokeTokens() makes every one answer 401). */
  const tokens = new Map<string, string>();
  const signInRequired = !!(options.signIn || options.cognito);
  const user = (r: FakeRequest) => {
    const bearer = /^Bearer (.+)$/.exec(r.headers['authorization'] ?? '')?.[1];
    return signInRequired ? tokens.get(bearer ?? '') : r.headers['x-winnow-user'];
  };

  const image = (s: Sample) => ({
    imageId: s.imageId,
    key: `uploads/flowers/${s.imageId}.jpg`,
    width: 640,
    height: 480,
    url: `http://images.test/${s.imageId}.jpg`,
    thumbUrl: `http://images.test/${s.imageId}.thumb.jpg`,
  });
  const find = (id: string) => samples.find((s) => s.sampleId === id);
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const error = (status: number, code: string, message: string) => json(status, { code, message, requestId: 'r' });

  function route(r: FakeRequest, url: URL): Response {
    const p = url.pathname;
    if (url.host.startsWith('cognito-idp.')) return cognito(r);
    if (r.method === 'GET' && p === '/config.json' && options.cognito) {
      return json(200, { apiUrl: 'http://app.test', region: options.cognito.region, userPoolId: `${options.cognito.region}_pool`, userPoolClientId: 'web-client' });
    }
    if (r.method === 'GET' && p === '/auth/config') {
      return options.signIn ? json(200, { mode: 'local', issuer: 'http://app.test/auth', clientId: 'winnow-local-web' }) : json(200, { mode: 'none' });
    }
    if (r.method === 'POST' && p === '/auth/login' && options.signIn) {
      const { username, password } = r.body;
      if (options.signIn.users[username] !== password) return error(401, 'unauthorized', 'wrong username or password');
      return json(200, { idToken: issue(username), expiresIn: 3600 });
    }
    if (p.startsWith('/api/') && signInRequired && !user(r)) return error(401, 'unauthorized', 'token expired or missing');
    if (r.method === 'GET' && p === '/api/projects') return json(200, { projects: [project] });
    if (r.method === 'GET' && p === '/api/projects/flowers') return json(200, { project });
    if (r.method === 'PATCH' && p === '/api/projects/flowers') {
      if (r.body.version !== project.version) return error(409, 'stale_version', 'project changed');
      const { version: _v, ...edit } = r.body;
      Object.assign(project, edit, { version: project.version + 1 });
      return json(200, { project });
    }
    if (r.method === 'GET' && p === '/api/projects/flowers/next') {
      const count = Number(url.searchParams.get('count') ?? 5);
      const me = user(r)!;
      const open = samples.filter((s) => s.queueKey && (!s.lease || s.lease.labelerId === me || s.lease.until < Date.now()));
      const skippedByMe = (s: Sample) => s.lease?.skipped && s.lease.labelerId === me;
      const mine = open.filter((s) => s.lease?.labelerId === me && !skippedByMe(s));
      const fresh = open.filter((s) => !s.lease || (s.lease.until < Date.now() && !skippedByMe(s)));
      const out = [...mine, ...fresh, ...open.filter(skippedByMe)].slice(0, count);
      out.forEach((s) => (s.lease = { labelerId: me, until: Date.now() + 60_000 }));
      return json(200, {
        samples: out.map((s) => ({ sample: s, image: image(s), lease: { until: s.lease!.until } })),
        // As the real API: done only when nothing at all is left for this labeler.
        done: out.length === 0 && !samples.some((s) => s.queueKey && !s.labeledBy.includes(me)),
        model: { state: 'untrained', message: 'The model trains after 10 labels' },
      });
    }
    const skip = /^\/api\/projects\/flowers\/samples\/([^/]+)\/skip$/.exec(p);
    if (r.method === 'POST' && skip) {
      // As the real API: the lease ends, the sample goes back to the pool (served to its skipper after the rest).
      const s = find(skip[1]);
      if (!s) return error(404, 'not_found', 'no such sample');
      s.lease = { labelerId: user(r)!, until: 0, skipped: true };
      return json(200, { sample: s });
    }
    const annotate = /^\/api\/projects\/flowers\/samples\/([^/]+)\/annotations$/.exec(p);
    if (r.method === 'POST' && annotate) {
      const replay = replies.get(r.body.requestId);
      if (replay) return json(200, replay.body);
      const s = find(annotate[1]);
      if (!s) return error(404, 'not_found', 'no such sample');
      if (s.version !== r.body.version) return error(409, 'stale_version', `sample is at version ${s.version}`);
      const confidences =
        r.body.confidences ?? classes.map((_, i) => (i === r.body.classIndex ? 1 : 0));
      s.version += 1;
      s.label = {
        confidences,
        ambiguous: !!r.body.ambiguous,
        ...(r.body.boxes ? { boxes: r.body.boxes } : {}),
        labelerId: user(r)!,
        at: 'now',
      };
      s.labeledBy = [user(r)!];
      delete s.queueKey;
      delete s.lease;
      history.push(s.sampleId);
      const body = { sample: structuredClone(s), annotation: { version: s.version - 1 } };
      replies.set(r.body.requestId, { status: 201, body });
      return json(201, body);
    }
    if (r.method === 'POST' && p === '/api/projects/flowers/undo') {
      const replay = replies.get(r.body.requestId);
      if (replay) return json(200, replay.body);
      const id = r.body.sampleId ?? history[history.length - 1];
      const at = history.lastIndexOf(id);
      if (at < 0) return error(409, 'conflict', 'nothing to undo');
      history.splice(at, 1);
      const s = find(id)!;
      s.version += 1;
      delete s.label;
      s.labeledBy = [];
      s.queueKey = s.order;
      const body = { sample: structuredClone(s), undone: { version: s.version - 2 } };
      replies.set(r.body.requestId, { status: 200, body });
      return json(200, body);
    }
    if (r.method === 'GET' && p === '/api/projects/flowers/progress') {
      const labeled = samples.filter((s) => s.label);
      return json(200, {
        total: samples.length,
        labeled: labeled.length,
        remaining: samples.length - labeled.length,
        ambiguous: labeled.filter((s) => s.label!.ambiguous).length,
        byClass: classes.map((name, i) => ({ name, count: labeled.filter((s) => s.label!.confidences[i] > 0).length })),
        labelers: [],
        me: { total: labeled.length, today: labeled.length },
      });
    }
    if (r.method === 'GET' && p === '/api/projects/flowers/history') {
      return json(200, { items: history.map((id) => ({ sample: find(id), image: image(find(id)!) })) });
    }
    const one = /^\/api\/projects\/flowers\/samples\/([^/]+)$/.exec(p);
    if (r.method === 'GET' && one) {
      const s = find(one[1]);
      return s ? json(200, { sample: s, image: image(s) }) : error(404, 'not_found', 'no such sample');
    }
    if (r.method === 'GET' && p === '/api/projects/flowers/images') {
      return json(200, { images: samples.map((s) => ({ ...image(s), status: 'ready' })) });
    }
    if (r.method === 'GET' && p === '/api/projects/flowers/review/mislabeled') {
      const labeled = samples.filter((s) => s.label);
      return json(200, {
        items: labeled.map((s) => ({
          sample: s,
          image: image(s),
          given: { class: classes[s.label!.confidences.indexOf(1)], probability: 0.1 },
          predicted: { class: classes[0], probability: 0.9 },
        })),
      });
    }
    const similar = /^\/api\/projects\/flowers\/samples\/([^/]+)\/similar$/.exec(p);
    if (r.method === 'GET' && similar) {
      // "Similar" = the next three samples, for the test's purposes.
      const at = samples.findIndex((s) => s.sampleId === similar[1]);
      const near = samples.slice(at + 1, at + 4);
      return json(200, { items: near.map((s, k) => ({ sample: s, image: image(s), similarity: 0.9 - k * 0.1 })) });
    }
    if (r.method === 'GET' && p === '/api/projects/flowers/quality' && options.quality) {
      // The active-learning API's shape: one entry per scored label with its running aggregates.
      return json(200, {
        model: { state: 'trained', message: 'trained on 3 labels (uncertainty)' },
        count: 3,
        window: 50,
        mse: 0.4,
        errorRate: 0.33,
        windowErrorRate: 0.33,
        accuracy: {
          accuracy: 0.84, low: 0.62, high: 0.95, n: 12, correct: 10, method: 'audit+confidence', scoredBy: 'held-out',
          perClass: [
            { classIndex: 0, name: 'daisy', n: 5, correct: 5, accuracy: 1, low: 0.57, high: 1 },
            { classIndex: 1, name: 'rose', n: 7, correct: 5, accuracy: 0.71, low: 0.36, high: 0.92 },
            { classIndex: 2, name: 'tulip', n: 0, correct: 0, accuracy: null, low: null, high: null },
          ],
        },
        points: [
          { index: 0, at: 't0', squaredError: 0.1, correct: true, runningMse: 0.1, runningErrorRate: 0, windowErrorRate: 0 },
          { index: 1, at: 't1', squaredError: 0.9, correct: false, runningMse: 0.5, runningErrorRate: 0.5, windowErrorRate: 0.5 },
          { index: 2, at: 't2', squaredError: 0.2, correct: true, runningMse: 0.4, runningErrorRate: 0.33, windowErrorRate: 0.33 },
        ],
      });
    }
    return error(404, 'not_found', `no route ${r.method} ${p}`);
  }

  function issue(username: string): string {
    const token = fakeIdToken(username);
    tokens.set(token, username);
    return token;
  }

  /** Cognito's JSON protocol, as much as the web app uses. */
  function cognito(r: FakeRequest): Response {
    const c = options.cognito!;
    const fail = (type: string, message: string) => json(400, { __type: type, message });
    if (r.headers['content-type'] !== 'application/x-amz-json-1.1') return fail('SerializationException', 'bad content type');
    const target = r.headers['x-amz-target'];
    if (target === 'AWSCognitoIdentityProviderService.InitiateAuth') {
      const { AuthFlow, ClientId, AuthParameters } = r.body;
      if (AuthFlow !== 'USER_PASSWORD_AUTH' || ClientId !== 'web-client') return fail('InvalidParameterException', 'bad flow or client');
      if (c.users[AuthParameters.USERNAME] !== AuthParameters.PASSWORD) return fail('NotAuthorizedException', 'Incorrect username or password.');
      if (c.mustChangePassword?.includes(AuthParameters.USERNAME)) {
        return json(200, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: `session-${AuthParameters.USERNAME}`, ChallengeParameters: {} });
      }
      return json(200, { AuthenticationResult: { IdToken: issue(AuthParameters.USERNAME), ExpiresIn: 3600, TokenType: 'Bearer' } });
    }
    if (target === 'AWSCognitoIdentityProviderService.RespondToAuthChallenge') {
      const { ChallengeName, Session, ChallengeResponses } = r.body;
      if (ChallengeName !== 'NEW_PASSWORD_REQUIRED' || Session !== `session-${ChallengeResponses.USERNAME}`) return fail('CodeMismatchException', 'bad session');
      c.users[ChallengeResponses.USERNAME] = ChallengeResponses.NEW_PASSWORD;
      c.mustChangePassword = c.mustChangePassword?.filter((u) => u !== ChallengeResponses.USERNAME);
      return json(200, { AuthenticationResult: { IdToken: issue(ChallengeResponses.USERNAME), ExpiresIn: 3600 } });
    }
    return fail('UnknownOperationException', String(target));
  }

  const fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input, 'http://app.test');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init.headers as Record<string, string>) ?? {})) headers[k.toLowerCase()] = v;
    const r: FakeRequest = {
      method: init.method ?? 'GET',
      path: url.pathname + url.search,
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(r);
    if (holdWhen?.(r)) await new Promise<void>((resolve) => held.push(resolve));
    if (failWhen?.(r)) throw new TypeError('Failed to fetch');
    return route(r, url);
  };

  return {
    fetch,
    project,
    samples,
    requests,
    history,
    /** Writes to the server (annotate / undo), in the order they arrived. */
    writes: () => requests.filter((r) => r.method === 'POST' || r.method === 'PATCH'),
    /** Every token issued so far stops working (expired or revoked): API calls answer 401. */
    revokeTokens: () => tokens.clear(),
    failWhen: (pred: ((r: FakeRequest) => boolean) | undefined) => (failWhen = pred),
    holdWhen: (pred: ((r: FakeRequest) => boolean) | undefined) => (holdWhen = pred),
    release: () => {
      const waiting = held;
      held = [];
      waiting.forEach((r) => r());
    },
  };
}
