import { Hono } from 'hono';
import { z } from 'zod';
import { TASK_TYPES } from '../../domain/model.js';
import { clientProject, createProject, editProject, getProject } from '../../domain/projects.js';
import { modelState } from '../../domain/serving/next-samples.js';
import { canAccessProject } from '../../auth/membership.js';
import { access, BODY_LIMITS } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const classes = z.array(z.string().trim().min(1).max(100)).min(1).max(1000);
const projectFields = {
  name: z.string().trim().max(200).optional(),
  classes,
  taskType: z.enum(TASK_TYPES as [string, ...string[]]).optional(),
  confidenceLevels: z.array(z.number().min(0).max(1)).min(2).max(11).optional(),
  allowAmbiguous: z.boolean().optional(),
  strategy: z.string().max(64).optional(),
  overlap: z.number().int().min(1).max(20).optional(),
  auditRate: z.number().min(0).max(1).optional(),
  members: z.array(z.string().trim().min(1).max(128)).max(10_000).optional(),
  detection: z
    .object({
      enabled: z.boolean().optional(),
      scoreThreshold: z.number().min(0).max(1).optional(),
      iouThreshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
  // Days: exports deleted that long after they finished; originals that long after an export held them. Absent: forever.
  retention: z
    .object({
      exportsDays: z.number().int().min(1).max(36_500).optional(),
      originalsDaysAfterExport: z.number().int().min(1).max(36_500).optional(),
    })
    .strict()
    .optional(),
};
const newProject = z.object({ id: z.string().min(1).max(63), ...projectFields });
const projectEdit = z.object({ ...projectFields, classes: classes.optional(), version: z.number().int().min(1) });

export const projectRoutes = new Hono<AppEnv>()
  .get('/', access('signed-in'), async (c) => {
    const projects = await c.var.deps.stores.projects.list();
    return c.json({ projects: projects.filter((p) => canAccessProject(c.var.identity, p)).map(clientProject) });
  })
  .post('/', access('owner', { maxBodyBytes: 4 * BODY_LIMITS.MiB }), valid('json', newProject), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof newProject> & { taskType?: (typeof TASK_TYPES)[number] };
    const project = await createProject(c.var.deps.stores, body, c.var.identity.userId);
    c.var.deps.onProjectCreated?.(project.id);
    return c.json({ project: clientProject(project) }, 201);
  })
  .get('/:projectId', access('member'), async (c) => {
    const project = await getProject(c.var.deps.stores, c.req.param('projectId'));
    const ranking = await c.var.deps.stores.rankings.get(project.id);
    return c.json({ project: clientProject(project), model: modelState(project, ranking) });
  })
  .patch('/:projectId', access('owner', { maxBodyBytes: 4 * BODY_LIMITS.MiB }), valid('json', projectEdit), async (c) => {
    const body = c.req.valid('json') as z.infer<typeof projectEdit> & { taskType?: (typeof TASK_TYPES)[number] };
    const project = await editProject(c.var.deps.stores, c.req.param('projectId'), body);
    return c.json({ project: clientProject(project) });
  });
