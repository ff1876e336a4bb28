// Typed client for the Winnow HTTP API. The one place that knows URLs, identity headers, the error shape and
// which calls are safe to retry. Writes are NOT retried here: the save queue owns their idempotency keys and
// shows their state to the labeler. Each call names its route in the server's AppType (types only, through Hono's
// client types): a route that is renamed or removed, or that answers another shape than the app reads, is a type
// error here.

import type { AuditEntry } from '../../../functions/domain/audit-log.js';
import type { GalleryCounts, GalleryFilter, GalleryItem, GallerySort } from '../../../functions/domain/gallery.js';
import type { TeamRow } from '../../../functions/domain/team.js';
import type { Body, Client, Ok, ProjectRoutes, SampleRoutes, TeamRoutes } from './serverTypes.js';
import type {
  Annotation,
  AutolabelReport,
  ExportJob,
  ExportRequest,
  HistoryItem,
  ImageStatus,
  ImageSummary,
  LabelBody,
  NewProject,
  NextResponse,
  Progress,
  Project,
  AccuracyEstimate,
  Quality,
  Sample,
  SuspectItem,
  UploadGrant,
} from './types.js';

/** Who is calling. Loopback without sign-in names the labeler; with sign-in (local issuer or Cognito) an ID token
 * is sent, and `name` is the user name it carries. */
export type Identity = { kind: 'user'; name: string } | { kind: 'bearer'; token: string; name: string };

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A deletion job as the API reports it (functions/domain/deletion.ts). */
export interface DeletionJob {
  jobId: string;
  status: 'running' | 'done' | 'failed';
  phase: string;
  progress: { done: number; total?: number };
  deleted: Record<string, number>;
  error?: string;
  statusUrl?: string;
}

export interface ApiOptions {
  /** Defaults to the browser's fetch; tests pass a plain function. */
  fetch?: FetchLike;
  /** Prefix for every path; '' means same origin. A function when it is known only after start (config.json). */
  baseUrl?: string | (() => string);
  identity: () => Identity | undefined;
  /** The server refused the identity (401: token expired or revoked): the app goes back to sign-in. */
  onUnauthorized?: (error: ApiError) => void;
  /** Retries for idempotent reads on network errors and 5xx (writes are never retried here). */
  readRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Every failure a call can have, in one type: HTTP errors carry the server's `{ code, message, requestId }`;
 * a network failure is status 0, code 'network'. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Worth trying again later with the same request (the server or the network may recover). */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** A 404 from a route the server has, about the thing it names (an unknown project or sample): not "this server
 * has no such endpoint" (the server says "no route …" then; a static host answers with a page, not JSON). */
export function isMissingThing(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status === 404 && err.code === 'not_found' && !err.message.startsWith('no route');
}

/** The identity headers: the only place that decides how a caller proves who they are. */
export function identityHeaders(identity: Identity | undefined): Record<string, string> {
  if (!identity) return {};
  if (identity.kind === 'bearer') return { Authorization: `Bearer ${identity.token}` };
  // Header values are bytes: the server decodes the percent-encoding, so "Zoë" survives.
  return { 'X-Winnow-User': encodeURIComponent(identity.name) };
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  retries?: number;
  /** Return the raw response instead of parsing JSON (CSV export). */
  raw?: boolean;
}

export function createApi(options: ApiOptions) {
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const baseUrl = typeof options.baseUrl === 'function' ? options.baseUrl : () => (options.baseUrl as string | undefined) ?? '';
  const readRetries = options.readRetries ?? 2;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function once(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...identityHeaders(options.identity()) };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(baseUrl() + path + queryString(opts.query), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (err) {
      throw new ApiError(0, 'network', `network error: ${(err as Error)?.message ?? String(err)}`);
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401) options.onUnauthorized?.(error);
      throw error;
    }
    return response;
  }

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const retries = opts.retries ?? (method === 'GET' ? readRetries : 0);
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await once(method, path, opts);
        if (opts.raw) return response as unknown as T;
        return await parseJson<T>(response);
      } catch (err) {
        if (!(err instanceof ApiError) || !err.retryable || attempt >= retries) throw err;
        await sleep(250 * 2 ** attempt);
      }
    }
  }

  /** Optional endpoints: undefined when the server has no such route (the caller hides the feature). */
  async function optional<T>(promise: Promise<T>): Promise<T | undefined> {
    try {
      return await promise;
    } catch (err) {
      // A 404, or a page where JSON was expected (a static host's fallback), both mean "no such route".
      // A 404 that names a missing thing (the project) is an answer, not a missing endpoint.
      if (isMissingThing(err)) throw err;
      if (err instanceof ApiError && (err.status === 404 || err.status === 501 || err.code === 'not_json')) return undefined;
      throw err;
    }
  }

  const p = (projectId: string) => `/api/projects/${encodeURIComponent(projectId)}`;

  return {
    /** The name the API will know the caller by, or undefined while nobody is signed in. */
    caller: () => options.identity()?.name,
    listProjects: (): Promise<Project[]> => request<Ok<Client['api']['projects']['$get']>>('GET', '/api/projects').then((r) => r.projects),
    createProject: (body: NewProject & Body<Client['api']['projects']['$post']>): Promise<Project> =>
      request<Ok<Client['api']['projects']['$post']>>('POST', '/api/projects', { body }).then((r) => r.project),
    getProject: (projectId: string): Promise<Project> => request<Ok<ProjectRoutes['$get']>>('GET', p(projectId)).then((r) => r.project),
    /** Owners: delete images (by id, or every one matching a filter) with everything derived; answers the job. */
    deleteImages: (projectId: string, target: { imageIds: string[] } | { filter: { status?: string; labeledClass?: string } }) =>
      request<DeletionJob & Ok<ProjectRoutes['deletions']['$post']>>('POST', `${p(projectId)}/deletions`, { body: target }),
    /** Owners: delete the whole project; `confirm` is its name, typed. */
    deleteProject: (projectId: string, confirm: string) => request<DeletionJob & Ok<ProjectRoutes['$delete']>>('DELETE', p(projectId), { body: { confirm } }),
    /** A deletion job's progress (the `statusUrl` the start answered). */
    deletion: (statusUrl: string) => request<DeletionJob>('GET', statusUrl),
    /** Edits are conditional on the version the owner saw (409 stale_version otherwise). */
    updateProject: (projectId: string, body: Partial<Omit<NewProject, 'id'>> & { version: number } & Body<ProjectRoutes['$patch']>): Promise<Project> =>
      request<Ok<ProjectRoutes['$patch']>>('PATCH', p(projectId), { body }).then((r) => r.project),
    next: (projectId: string, count: number): Promise<NextResponse> =>
      request<Ok<ProjectRoutes['next']['$get']>>('GET', `${p(projectId)}/next`, { query: { count } }),
    /** Hands a served sample back: free for others now, served to me again once nothing else is left. */
    skip: (projectId: string, sampleId: string): Promise<{ sample: Sample }> =>
      request<Ok<SampleRoutes['skip']['$post']>>('POST', `${p(projectId)}/samples/${encodeURIComponent(sampleId)}/skip`),
    annotate: (projectId: string, sampleId: string, body: LabelBody & Body<SampleRoutes['annotations']['$post']>): Promise<{ sample: Sample; annotation: Annotation }> =>
      request<Ok<SampleRoutes['annotations']['$post']>>(
        'POST',
        `${p(projectId)}/samples/${encodeURIComponent(sampleId)}/annotations`,
        { body },
      ),
    undo: (projectId: string, body: Body<ProjectRoutes['undo']['$post']>): Promise<{ sample: Sample; undone: Annotation }> =>
      request<Ok<ProjectRoutes['undo']['$post']>>('POST', `${p(projectId)}/undo`, { body }),
    progress: (projectId: string): Promise<Progress> => request<Ok<ProjectRoutes['progress']['$get']>>('GET', `${p(projectId)}/progress`),
    history: (projectId: string, limit = 50): Promise<HistoryItem[]> =>
      request<Ok<ProjectRoutes['history']['$get']>>('GET', `${p(projectId)}/history`, { query: { limit } }).then((r) => r.items),
    sample: (projectId: string, sampleId: string) =>
      request<Ok<SampleRoutes['$get']>>('GET', `${p(projectId)}/samples/${encodeURIComponent(sampleId)}`),
    /** Owners: models brought by users (functions/api/routes/models.ts; shapes in web/src/views/ModelsView.tsx). */
    models: {
      list: <T>() => request<{ models: T[] }>('GET', '/api/models').then((r) => r.models),
      upload: <T>(bytes: number) => request<T>('POST', '/api/models/uploads', { body: { bytes } }),
      inspect: <T>(body: { upload: string; name: string; role?: string }) => request<T>('POST', '/api/models/inspect', { body }),
      trial: <T>(body: unknown) => request<T>('POST', '/api/models/trial', { body }),
      register: <T>(body: unknown) => request<T>('POST', '/api/models', { body }),
      ofProject: <T>(projectId: string, embedder?: string) => request<T>('GET', `${p(projectId)}/models`, { query: embedder ? { embedder } : {} }),
      use: <T>(projectId: string, body: { detector?: string | null; embedder?: string }) => request<T>('PUT', `${p(projectId)}/models`, { body }),
    },
    /** Starts an export job (owners); poll `exportStatus` until it is done or failed. */
    startExport: (projectId: string, body: ExportRequest & Body<ProjectRoutes['exports']['$post']>): Promise<ExportJob> => request<Ok<ProjectRoutes['exports']['$post']>>('POST', `${p(projectId)}/exports`, { body }),
    exportStatus: (projectId: string, exportId: string): Promise<ExportJob> =>
      request<Ok<ProjectRoutes['exports'][':exportId']['$get']>>('GET', `${p(projectId)}/exports/${encodeURIComponent(exportId)}`),
    /** Owners: the trained classifier as one ONNX file or a plain head (zip), with the name the server gives it. */
    classifier: async (projectId: string, format: 'onnx' | 'head') => {
      const res = await request<Response>('GET', `${p(projectId)}/classifier`, { query: { format }, raw: true, retries: 0 });
      const fileName = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `${projectId}-classifier`;
      return { blob: await res.blob(), fileName };
    },
    quality: (projectId: string) =>
      optional(request<QualityReply>('GET', `${p(projectId)}/quality`)).then((raw) => (raw ? normalizeQuality(raw) : undefined)),
    requestUploads: (projectId: string, files: { name: string; contentType: string; bytes: number }[]): Promise<UploadGrant[] | undefined> =>
      optional(
        request<Ok<ProjectRoutes['uploads']['$post']>>('POST', `${p(projectId)}/uploads`, { body: { files } }).then(
          (r) => r.uploads,
        ),
      ),
    /** Labeled samples the model disagrees with most (active-learning API). */
    mislabeled: (projectId: string): Promise<SuspectItem[] | undefined> =>
      optional(request<Ok<ProjectRoutes['review']['mislabeled']['$get']>>('GET', `${p(projectId)}/review/mislabeled`).then((r) => r.items)),
    /** Owners: what auto-labeling at `precision` would do now, and the batches so far (functions/domain/autolabel.ts). */
    autolabelPreview: (projectId: string, precision: number) =>
      optional(request<Ok<ProjectRoutes['autolabel']['$get']>>('GET', `${p(projectId)}/autolabel`, { query: { precision } })),
    autolabel: (projectId: string, precision: number): Promise<AutolabelReport> => request<Ok<ProjectRoutes['autolabel']['$post']>>('POST', `${p(projectId)}/autolabel`, { body: { precision } }),
    undoAutolabel: (projectId: string, batchId: string) =>
      request<Ok<ProjectRoutes['autolabel'][':batchId']['undo']['$post']>>('POST', `${p(projectId)}/autolabel/${encodeURIComponent(batchId)}/undo`),
    /** Samples whose embeddings are nearest to this one's, for bulk labeling. */
    similar: (projectId: string, sampleId: string, k = 24): Promise<{ items: (HistoryItem & { similarity?: number })[]; message?: string } | undefined> =>
      optional(
        request<Ok<SampleRoutes['similar']['$get']>>(
          'GET',
          `${p(projectId)}/samples/${encodeURIComponent(sampleId)}/similar`,
          { query: { k } },
        ),
      ),
    /** Owners: samples with their labels, filtered and sorted (functions/domain/gallery.ts); undefined on servers without it. */
    gallery: (projectId: string, query: GalleryQuery & { cursor?: string; limit?: number }) =>
      optional<{ items: GalleryTile[]; cursor?: string }>(request<Ok<ProjectRoutes['gallery']['$get']>>('GET', `${p(projectId)}/gallery`, { query: galleryParams(query) })),
    /** Agreement between labelers (overall, per pair, per class; functions/domain/agreement.ts). */
    agreement: (projectId: string) => optional<AgreementReply>(request<Ok<ProjectRoutes['agreement']['$get']>>('GET', `${p(projectId)}/agreement`)),
    galleryCounts: (projectId: string) => optional<GalleryCounts>(request<Ok<ProjectRoutes['gallery']['counts']['$get']>>('GET', `${p(projectId)}/gallery/counts`)),
    /** Owners: the project's people (members, owners, whoever labeled) and whether accounts can be managed here. */
    team: (projectId: string): Promise<{ directory: boolean; team: TeamRow[] }> => request<Ok<ProjectRoutes['team']['$get']>>('GET', `${p(projectId)}/team`),
    addMember: (projectId: string, userId: string) => request<Ok<ProjectRoutes['members']['$post']>>('POST', `${p(projectId)}/members`, { body: { userId } }),
    removeMember: (projectId: string, userId: string) =>
      request<Ok<ProjectRoutes['members']['$delete']>>('DELETE', `${p(projectId)}/members`, { body: { userId } }),
    invite: (body: Body<TeamRoutes['users']['$post']>): Promise<{ account: Account; temporaryPassword?: string; delivery: 'shown-once' | 'email' }> =>
      request<Ok<TeamRoutes['users']['$post']>>('POST', '/api/team/users', { body }),
    changeUser: (body: Body<TeamRoutes['users']['$patch']>) =>
      request<Ok<TeamRoutes['users']['$patch']>>('PATCH', '/api/team/users', { body }),
    resetPassword: (userId: string) =>
      request<Ok<TeamRoutes['password-resets']['$post']>>('POST', '/api/team/password-resets', { body: { userId } }),
    /** A page of the project's audit log, newest first. */
    audit: (projectId: string, cursor?: string): Promise<{ items: AuditEntry[]; cursor?: string }> =>
      request<Extract<Ok<ProjectRoutes['audit']['$get']>, { items: unknown }>>('GET', `${p(projectId)}/audit`, { query: { cursor, limit: 100 } }),
    /** The whole log as a file (CSV or JSON Lines), for a download. */
    auditFile: (projectId: string, format: 'csv' | 'jsonl') =>
      request<Response>('GET', `${p(projectId)}/audit`, { query: { format }, raw: true }).then((r) => r.blob()),
    images: (projectId: string, query: { status?: ImageStatus; cursor?: string; limit?: number } = {}): Promise<{ images: ImageSummary[]; cursor?: string } | undefined> =>
      optional(
        request<Ok<ProjectRoutes['images']['$get']>>('GET', `${p(projectId)}/images`, { query }),
      ),
  };
}

export type Api = ReturnType<typeof createApi>;

/** The gallery's filters (functions/api/routes/gallery.ts): the domain's, with the class and labeler by name; confidences in [0, 1]. */
export interface GalleryQuery
  extends Pick<GalleryFilter, 'source' | 'minConfidence' | 'maxConfidence' | 'ambiguous' | 'disagrees' | 'unlabeled' | 'split'> {
  class?: string;
  labeler?: string;
  /** With split: the pair of labelers who disagree, or the class one of them chose. */
  splitA?: string;
  splitB?: string;
  splitClass?: string;
  sort?: GallerySort;
}

function galleryParams(q: GalleryQuery & { cursor?: string; limit?: number }): Record<string, string | number | undefined> {
  const flag = (b?: boolean) => (b === undefined ? undefined : String(b));
  return { ...q, ambiguous: flag(q.ambiguous), disagrees: flag(q.disagrees), unlabeled: flag(q.unlabeled), split: flag(q.split) };
}

/** One gallery tile (functions/domain/gallery.ts GalleryItem plus its thumbnail). */
export interface GalleryTile extends GalleryItem {
  thumbUrl: string;
}

export type { GalleryCounts };

/** What GET /api/projects/:id/agreement answers. */
export type AgreementReply = Ok<ProjectRoutes['agreement']['$get']>;

export interface Account {
  userId: string;
  email?: string;
  role: 'owner' | 'labeler';
  enabled: boolean;
  status?: string;
}

export type { AuditEntry, TeamRow };

/** What GET /api/projects/:id/quality answers (functions/domain/quality.ts projectQuality). */
export type QualityReply = Ok<ProjectRoutes['quality']['$get']>;

/** The quality reply as the labeling view draws it: per-point series split into the chart's lines. */
export function normalizeQuality(raw: QualityReply): Quality {
  const orUndefined = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  const accuracy = estimate(raw.accuracy);
  return {
    points: raw.points.map((p) => ({ mse: p.squaredError, correct: p.correct })),
    runningMse: raw.points.map((p) => p.runningMse),
    runningError: raw.points.map((p) => p.runningErrorRate),
    ...(accuracy ? { estimate: accuracy } : {}),
    count: raw.count,
    windowErrorRate: orUndefined(raw.windowErrorRate),
    window: raw.window,
    model: raw.model,
  };
}

/**
 * The audit stream's accuracy estimate, when there is one. The error on the served samples is never turned into an
 * "accuracy": those samples are the model's hardest by design.
 */
function estimate(raw: QualityReply['accuracy']): AccuracyEstimate | undefined {
  const { accuracy, low, high, n } = raw;
  if (typeof accuracy !== 'number' || typeof low !== 'number' || typeof high !== 'number' || typeof n !== 'number' || n <= 0) return undefined;
  return { accuracy, low, high, n, perClass: raw.perClass };
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

async function parseJson<T>(response: Response): Promise<T> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    throw new ApiError(response.status, 'not_json', `expected JSON from ${response.url || 'the API'}, got ${type || 'no content type'}`);
  }
  return (await response.json()) as T;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; requestId?: string } = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy error page): keep the status line.
  }
  return new ApiError(
    response.status,
    body.code ?? `http_${response.status}`,
    body.message ?? `${response.status} ${response.statusText}`.trim(),
    body.requestId,
  );
}
