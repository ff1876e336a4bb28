// Project use cases: create, read, list, edit. Validation of shape happens at the edge (zod); the rules that
// involve more than one field live here so every entry point (API, CLI) applies them the same way.

import { randomBytes } from 'node:crypto';
import { badRequest, ConditionFailed, conflict, notFound, WinnowError } from './errors.js';
import { DEFAULT_CONFIDENCE_LEVELS, ID_PATTERN, type Project, type TaskType } from './model.js';
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES } from './learning/strategies.js';
import type { Stores } from './ports.js';

export interface NewProject {
  id: string;
  name?: string;
  classes: string[];
  taskType?: TaskType;
  confidenceLevels?: number[];
  allowAmbiguous?: boolean;
  strategy?: string;
  overlap?: number;
  /** Share of served samples drawn at random for the accuracy audit, 0..1 (default 0.1, learning/audit.ts). */
  auditRate?: number;
  members?: string[];
  detection?: Project['detection'];
  /** Keep exports / originals for N days (retention.ts); absent: forever. */
  retention?: Project['retention'];
}

/**
 * Checks a retention setting (enforced by retention.ts); the message names the field. Returns undefined when it is fine.
 */
export function retentionProblem(retention: Project['retention']): { message: string; field: string } | undefined {
  if (retention === undefined) return undefined;
  for (const field of ['exportsDays', 'originalsDaysAfterExport'] as const) {
    const v = retention[field];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 36_500)) {
      return { message: `retention.${field} must be a whole number of days from 1 to 36500 (leave it out to keep forever)`, field: `retention.${field}` };
    }
  }
  const { exportsDays, originalsDaysAfterExport } = retention;
  if (originalsDaysAfterExport !== undefined && exportsDays !== undefined && exportsDays < originalsDaysAfterExport) {
    // The export's record is what says when originals may go: expiring it first would keep them forever.
    return {
      message: `retention.exportsDays (${exportsDays}) must be at least retention.originalsDaysAfterExport (${originalsDaysAfterExport}): originals go that many days after an export, so the export must still exist then`,
      field: 'retention.exportsDays',
    };
  }
  return undefined;
}

export function validateProjectRules(p: Pick<Project, 'id' | 'classes' | 'confidenceLevels' | 'overlap' | 'strategy' | 'auditRate' | 'retention'>): void {
  const retention = retentionProblem(p.retention);
  if (retention) throw badRequest(retention.message, { field: retention.field });
  if (p.auditRate !== undefined && !(Number.isFinite(p.auditRate) && p.auditRate >= 0 && p.auditRate <= 1)) {
    throw badRequest('auditRate must be a number from 0 to 1 (e.g. 0.1 = 1 in 10 served samples is an audit)', { field: 'auditRate' });
  }
  if (!ID_PATTERN.test(p.id)) {
    throw badRequest(`project id "${p.id}" must be lower-case letters, digits, '-' or '_' (max 63)`, { field: 'id' });
  }
  if (p.classes.length === 0) throw badRequest('a project needs at least one class', { field: 'classes' });
  const seen = new Set<string>();
  for (const c of p.classes) {
    const name = c.trim();
    if (!name) throw badRequest('class names must not be empty', { field: 'classes' });
    if (seen.has(name.toLowerCase())) throw badRequest(`class "${name}" appears twice`, { field: 'classes' });
    seen.add(name.toLowerCase());
  }
  const levels = p.confidenceLevels;
  if (levels.length < 2 || levels.some((l) => !(l >= 0 && l <= 1))) {
    throw badRequest('confidence levels must be at least two numbers within [0, 1]', { field: 'confidenceLevels' });
  }
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] <= levels[i - 1]) {
      throw badRequest('confidence levels must be strictly ascending', { field: 'confidenceLevels' });
    }
  }
  if (!levels.includes(1)) throw badRequest('confidence levels must include 1', { field: 'confidenceLevels' });
  if (!isStrategy(p.strategy)) {
    throw badRequest(`unknown strategy "${p.strategy}": use one of ${STRATEGIES.join(', ')}`, { field: 'strategy' });
  }
  if (!Number.isInteger(p.overlap) || p.overlap < 1 || p.overlap > 20) {
    throw badRequest('overlap must be an integer from 1 to 20', { field: 'overlap' });
  }
}

/** A project as clients see it: without its audit salt (which would tell a labeler which images are audits). */
export function clientProject(project: Project): Omit<Project, 'auditSalt'> {
  const { auditSalt: _salt, ...rest } = project;
  return rest;
}

export async function createProject(stores: Stores, input: NewProject, createdBy: string): Promise<Project> {
  const project: Project = {
    id: input.id,
    name: input.name?.trim() || input.id,
    classes: input.classes.map((c) => c.trim()),
    taskType: input.taskType ?? 'single-label',
    confidenceLevels: input.confidenceLevels ?? [...DEFAULT_CONFIDENCE_LEVELS],
    allowAmbiguous: input.allowAmbiguous ?? true,
    strategy: input.strategy ?? DEFAULT_STRATEGY,
    overlap: input.overlap ?? 1,
    ...(input.auditRate !== undefined ? { auditRate: input.auditRate } : {}),
    auditSalt: randomBytes(8).toString('hex'),
    ...(input.members ? { members: [...new Set(input.members)] } : {}),
    ...(input.detection ? { detection: input.detection } : {}),
    ...(input.retention ? { retention: input.retention } : {}),
    createdAt: new Date(stores.clock.now()).toISOString(),
    createdBy,
    version: 1,
  };
  validateProjectRules(project);
  try {
    await stores.projects.create(project);
  } catch (err) {
    if (err instanceof ConditionFailed) throw conflict(`project "${project.id}" already exists`, { field: 'id' });
    throw err;
  }
  return project;
}

export async function getProject(stores: Stores, projectId: string): Promise<Project> {
  const project = await stores.projects.get(projectId);
  if (!project) throw notFound(`project "${projectId}"`);
  return project;
}

export type ProjectEdit = Partial<Omit<NewProject, 'id'>> & { version: number };

export async function editProject(stores: Stores, projectId: string, edit: ProjectEdit): Promise<Project> {
  const current = await getProject(stores, projectId);
  if (edit.version !== current.version) {
    throw new WinnowError('stale_version', `project changed since version ${edit.version} (now ${current.version})`, {
      currentVersion: current.version,
    });
  }
  if (edit.classes && edit.classes.length < current.classes.length) {
    // Labels store confidences by class index; removing a class would silently shift every stored label.
    throw badRequest('classes can be renamed or added, not removed', { field: 'classes' });
  }
  const next: Project = {
    ...current,
    ...Object.fromEntries(Object.entries(edit).filter(([k, v]) => v !== undefined && k !== 'version')),
    version: current.version,
  };
  // The registered detector is chosen on the Models page (api/routes/models.ts): a settings edit keeps it.
  if (edit.detection && current.detection?.model && edit.detection.model === undefined) next.detection = { ...edit.detection, model: current.detection.model };
  validateProjectRules(next);
  try {
    return await stores.projects.update(next, current.version);
  } catch (err) {
    if (err instanceof ConditionFailed) {
      throw new WinnowError('stale_version', 'project was edited by someone else; reload and retry');
    }
    throw err;
  }
}
