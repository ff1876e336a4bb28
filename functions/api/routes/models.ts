// Bring your own model (owners only): upload an ONNX file with a presigned PUT, have Winnow inspect it and propose a
// manifest, trial-run the (edited) manifest on a few of a project's images, register it, then use it on a project:
// as its detector (new uploads get its boxes) or as its embedder (the project is re-embedded in the background).
// Files are stored once under models/<sha256> and shared by every project; see functions/domain/models.ts.

import { createHash, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { badRequest, conflict, notFound, WinnowError } from '../../domain/errors.js';
import { ID_PATTERN } from '../../domain/model.js';
import { checkClassMap, MODEL_LAYOUT, MODEL_NAME, MODEL_ROLES, type ModelLab, type ReembedJob, type RegisteredModel, type TrialImage } from '../../domain/models.js';
import type { Stores } from '../../domain/ports.js';
import { getProject } from '../../domain/projects.js';
import { access, BODY_LIMITS } from '../access.js';
import { objectUrls } from '../present.js';
import type { ApiDeps, AppEnv } from '../types.js';
import { valid } from '../validate.js';

const UPLOAD_TYPE = 'application/octet-stream';
const TRIAL_IMAGES = 4;
/** A re-embedding job with no progress for this long is reported as interrupted. */
const STALLED_MS = 5 * 60_000;

/**
 * Classifiers are inspected and tried (their top classes shown) but not registered: a project's suggestions come from
 * the classifier it trains on its own labels, and nothing would use another model's classes.
 */
export const CLASSIFIER_REFUSED =
  'a classifier cannot be registered: a project\'s suggestions come from the classifier Winnow trains on its own labels, ' +
  'and no project would use this model\'s classes. Register the layer before its class head with role "embedder" ' +
  '(the project then trains on its features), or a detector; the trial still shows its top classes';

function lab(deps: ApiDeps): ModelLab {
  if (!deps.models) throw new WinnowError('unavailable', 'custom models are not set up on this server (it runs no ONNX runtime)');
  return deps.models;
}

const uploadBody = z.strictObject({ bytes: z.number().int().min(1) });
const inspectBody = z.strictObject({
  upload: z.string().regex(/^[0-9a-f-]{36}$/, 'the upload id returned by POST /api/models/uploads'),
  name: z.string().regex(MODEL_NAME, 'lowercase letters, digits, ".", "_" and "-" (at most 63)'),
  role: z.enum(MODEL_ROLES).optional(),
  /** Fixes the input's dynamic dimensions (e.g. [1, 3, 320, 320]) for a model exported with open sizes. */
  inputShape: z.array(z.union([z.number().int().positive().max(8192), z.string().min(1).max(64)])).max(8).optional(),
});
const candidateBody = z.strictObject({
  manifest: z.record(z.string(), z.unknown()),
  labels: z.array(z.string().min(1).max(200)).min(1).max(100_000).optional(),
  classMap: z.record(z.string().min(1).max(200), z.string().min(1).max(200)).optional(),
  /** The project whose images the trial runs on (a synthetic image without one). */
  projectId: z.string().regex(ID_PATTERN, 'a project id').optional(),
});
const useBody = z
  .strictObject({
    /** A registered detector's name, or null for the stack's default detector. */
    detector: z.string().regex(MODEL_NAME).nullable().optional(),
    /** A registered embedder's name: the project is re-embedded with it in the background. */
    embedder: z.string().regex(MODEL_NAME).optional(),
  })
  .refine((b) => b.detector !== undefined || b.embedder !== undefined, 'give detector and/or embedder');

async function registered(stores: Stores, name: string): Promise<RegisteredModel | undefined> {
  const object = await stores.blobs.get(MODEL_LAYOUT.record(name));
  return object ? (JSON.parse(new TextDecoder().decode(object.body)) as RegisteredModel) : undefined;
}

async function mustBeRegistered(stores: Stores, name: string): Promise<RegisteredModel> {
  const record = await registered(stores, name);
  if (!record) throw notFound(`model "${name}"`);
  return record;
}

async function allRegistered(stores: Stores): Promise<RegisteredModel[]> {
  const out: RegisteredModel[] = [];
  let cursor: string | undefined;
  do {
    const page = await stores.blobs.list(MODEL_LAYOUT.recordPrefix, { cursor });
    for (const o of page.items) {
      const object = await stores.blobs.get(o.key);
      if (object) out.push(JSON.parse(new TextDecoder().decode(object.body)) as RegisteredModel);
    }
    cursor = page.cursor;
  } while (cursor);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Up to four ready images of the project, with their bytes, for a trial run. */
async function trialImages(stores: Stores, projectId: string): Promise<TrialImage[]> {
  const page = await stores.samples.listImages(projectId, { limit: 50 });
  const ready = page.items.filter((i) => i.status === 'ready').slice(0, TRIAL_IMAGES);
  const images = await Promise.all(ready.map(async (i) => ({ imageId: i.imageId, object: await stores.blobs.get(i.key) })));
  return images.flatMap((i) => (i.object ? [{ imageId: i.imageId, bytes: i.object.body }] : []));
}

async function countReadyImages(stores: Stores, projectId: string): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listImages(projectId, { cursor, limit: 500 });
    n += page.items.filter((i) => i.status === 'ready').length;
    cursor = page.cursor;
  } while (cursor);
  return n;
}

const summary = (m: RegisteredModel) => ({
  name: m.name,
  role: m.role,
  sha256: m.sha256,
  bytes: m.bytes,
  classes: m.labels?.length,
  ...(m.classMap ? { classMap: m.classMap } : {}),
  msPerImage: m.trial.msPerImage,
  registeredAt: m.registeredAt,
  registeredBy: m.registeredBy,
});

export const modelRoutes = new Hono<AppEnv>()
  .get('/models', access('owner'), async (c) => c.json({ models: (await allRegistered(c.var.deps.stores)).map(summary) }))
  // Step 1: where to PUT the file. Its declared size is checked against the cap before anything is stored.
  .post('/models/uploads', access('owner'), valid('json', uploadBody), async (c) => {
    const deps = c.var.deps;
    const { maxBytes } = lab(deps);
    const { bytes } = c.req.valid('json');
    if (bytes > maxBytes) {
      throw new WinnowError('payload_too_large', `too large: the model file has ${bytes} bytes; models up to ${maxBytes} bytes are accepted`, { field: 'bytes', limitBytes: maxBytes });
    }
    const upload = randomUUID();
    const ttl = Math.min(deps.presignTtlSeconds ?? 900, 3600);
    const url = await objectUrls(deps).putUrl(MODEL_LAYOUT.upload(upload), UPLOAD_TYPE, ttl);
    return c.json({ upload, url, method: 'PUT' as const, headers: { 'content-type': UPLOAD_TYPE }, expiresIn: ttl, maxBytes }, 201);
  })
  // Step 2: inspect the uploaded file; a usable one is kept under models/<sha256>, the upload itself is removed.
  .post('/models/inspect', access('owner'), valid('json', inspectBody), async (c) => {
    const deps = c.var.deps;
    const models = lab(deps);
    const { upload, name, role, inputShape } = c.req.valid('json');
    const key = MODEL_LAYOUT.upload(upload);
    const head = await deps.stores.blobs.head(key);
    if (!head) throw notFound(`upload "${upload}" (PUT the file to the URL from POST /api/models/uploads first)`);
    try {
      if (head.bytes > models.maxBytes) {
        throw new WinnowError('payload_too_large', `too large: the model file has ${head.bytes} bytes; models up to ${models.maxBytes} bytes are accepted`, { field: 'file', limitBytes: models.maxBytes });
      }
      const object = await deps.stores.blobs.get(key);
      if (!object) throw notFound(`upload "${upload}"`);
      const sha256 = createHash('sha256').update(object.body).digest('hex');
      const result = await models.inspect(object.body, { name, sha256, role, inputShape });
      if (!(await deps.stores.blobs.head(MODEL_LAYOUT.file(sha256)))) await deps.stores.blobs.put(MODEL_LAYOUT.file(sha256), object.body, UPLOAD_TYPE);
      return c.json(result);
    } finally {
      await deps.stores.blobs.delete(key);
    }
  })
  // Step 3: run the candidate on a few of a project's images and show the result (nothing is stored).
  .post('/models/trial', access('owner', { maxBodyBytes: 4 * BODY_LIMITS.MiB }), valid('json', candidateBody), async (c) => {
    const deps = c.var.deps;
    const body = c.req.valid('json');
    const images = body.projectId ? await trialImages(deps.stores, (await getProject(deps.stores, body.projectId)).id) : [];
    const { manifest, trial } = await lab(deps).trial(body, images, body.projectId ? { projectId: body.projectId } : { synthetic: true });
    return c.json({ manifest, trial });
  })
  // Step 4: register it (the trial runs again: nothing is accepted without running).
  .post('/models', access('owner', { maxBodyBytes: 4 * BODY_LIMITS.MiB }), valid('json', candidateBody), async (c) => {
    const deps = c.var.deps;
    const models = lab(deps);
    const body = c.req.valid('json');
    const name = body.manifest.name;
    if (typeof name !== 'string' || !MODEL_NAME.test(name)) throw badRequest('manifest.name: lowercase letters, digits, ".", "_" and "-" (at most 63)', { field: 'manifest.name' });
    if ((await models.reservedNames()).includes(name)) throw conflict(`"${name}" is the name of a model Winnow ships; choose another name`, { field: 'manifest.name' });
    if (await registered(deps.stores, name)) throw conflict(`a model named "${name}" is already registered`, { field: 'manifest.name' });
    if (body.manifest.role === 'classifier') throw badRequest(CLASSIFIER_REFUSED, { field: 'manifest.role' });
    let projectClasses: string[] | undefined;
    let images: TrialImage[] = [];
    if (body.projectId) {
      const project = await getProject(deps.stores, body.projectId);
      projectClasses = project.classes;
      images = await trialImages(deps.stores, project.id);
    }
    const { manifest, labels, trial } = await models.trial(body, images, body.projectId ? { projectId: body.projectId } : { synthetic: true });
    if (body.classMap) checkClassMap(body.classMap, labels ?? [], projectClasses);
    const m = manifest as { role: RegisteredModel['role']; sha256: string; bytes: number; outputs: { labels?: { sha256: string } }[] };
    const labelled = m.outputs.find((o) => o.labels);
    if (labelled?.labels && labels) {
      const bytes = new TextEncoder().encode(`${JSON.stringify(labels)}\n`);
      await deps.stores.blobs.put(MODEL_LAYOUT.labels(labelled.labels.sha256), bytes, 'application/json');
    }
    const record: RegisteredModel = {
      name,
      role: m.role,
      sha256: m.sha256,
      bytes: m.bytes,
      manifest,
      ...(labels ? { labels } : {}),
      ...(body.classMap ? { classMap: body.classMap } : {}),
      trial,
      registeredAt: new Date(deps.stores.clock.now()).toISOString(),
      registeredBy: c.var.identity.userId,
    };
    await deps.stores.blobs.put(MODEL_LAYOUT.record(name), new TextEncoder().encode(JSON.stringify(record)), 'application/json');
    return c.json({ model: summary(record), trial }, 201);
  })
  .get('/models/:modelName', access('owner'), async (c) => {
    const record = await mustBeRegistered(c.var.deps.stores, c.req.param('modelName'));
    return c.json({ model: { ...summary(record), manifest: record.manifest, labels: record.labels, trial: record.trial } });
  })
  // Unregister: refused while a project uses the model; the file goes when no other registration shares it.
  .delete('/models/:modelName', access('owner'), async (c) => {
    const deps = c.var.deps;
    const record = await mustBeRegistered(deps.stores, c.req.param('modelName'));
    const users = (await deps.stores.projects.list()).filter((p) => p.detection?.model === record.name || p.embedding?.model === record.name).map((p) => p.id);
    if (users.length) throw conflict(`model "${record.name}" is in use by project${users.length > 1 ? 's' : ''} ${users.join(', ')}: switch ${users.length > 1 ? 'them' : 'it'} to another model first`, { projects: users });
    await deps.stores.blobs.delete(MODEL_LAYOUT.record(record.name));
    const shared = (await allRegistered(deps.stores)).some((m) => m.sha256 === record.sha256);
    if (!shared) await deps.stores.blobs.delete(MODEL_LAYOUT.file(record.sha256));
    return c.json({ deleted: record.name, fileDeleted: !shared });
  })
  // A project's models, its re-embedding job, and (with ?embedder=) what switching to that embedder would cost.
  .get('/projects/:projectId/models', access('owner'), async (c) => {
    const deps = c.var.deps;
    const project = await getProject(deps.stores, c.req.param('projectId'));
    const wanted = c.req.query('embedder');
    let cost: { images: number; estimatedSeconds: number; model: string } | undefined;
    if (wanted !== undefined) {
      const record = await mustBeRegistered(deps.stores, wanted);
      const images = await countReadyImages(deps.stores, project.id);
      cost = { model: record.name, images, estimatedSeconds: Math.ceil((images * Math.max(record.trial.msPerImage, 1) * 1.5) / 1000) };
    }
    const jobObject = await deps.stores.blobs.get(MODEL_LAYOUT.reembedJob(project.id));
    let job = jobObject ? (JSON.parse(new TextDecoder().decode(jobObject.body)) as ReembedJob) : undefined;
    // A running job writes its progress at least every few seconds; one silent for long died with its process.
    if (job?.status === 'running' && deps.stores.clock.now() - Date.parse(job.updatedAt) > STALLED_MS) {
      job = { ...job, status: 'failed', reason: `interrupted: no progress since ${job.updatedAt} (the server stopped during the job); switch the embedder again to restart it` };
    }
    return c.json({
      embedder: project.embedding?.model ?? null,
      detector: project.detection?.model ?? null,
      ...(job ? { reembed: job } : {}),
      ...(cost ? { cost } : {}),
    });
  })
  .put('/projects/:projectId/models', access('owner'), valid('json', useBody), async (c) => {
    const deps = c.var.deps;
    const models = lab(deps);
    const body = c.req.valid('json');
    let project = await getProject(deps.stores, c.req.param('projectId'));
    if (body.detector !== undefined) {
      if (body.detector !== null) {
        const record = await mustBeRegistered(deps.stores, body.detector);
        if (record.role !== 'detector') throw badRequest(`model "${record.name}" is a ${record.role}, not a detector`, { field: 'detector' });
        if (record.classMap) checkClassMap(record.classMap, record.labels ?? [], project.classes);
      }
      const detection = { ...(project.detection ?? {}) };
      if (body.detector === null) delete detection.model;
      else detection.model = body.detector;
      project = await deps.stores.projects.update({ ...project, detection }, project.version);
    }
    let job;
    if (body.embedder !== undefined) {
      const record = await mustBeRegistered(deps.stores, body.embedder);
      if (record.role !== 'embedder') throw badRequest(`model "${record.name}" is a ${record.role}, not an embedder`, { field: 'embedder' });
      if (project.embedding?.model === record.name) throw conflict(`project "${project.id}" already uses embedder "${record.name}"`, { field: 'embedder' });
      job = await models.startReembed(project.id, record, c.var.identity.userId);
    }
    return c.json({ embedder: project.embedding?.model ?? null, detector: project.detection?.model ?? null, ...(job ? { reembed: job } : {}) }, job ? 202 : 200);
  });
