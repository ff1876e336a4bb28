// Team management for owners: accounts (invite, role, disable, reset password) under /api/team, and each
// project's members and audit log under /api/projects/:projectId. User ids travel in bodies, not paths: they may
// hold '@' and '.', which paths keep to one plain spelling (access.ts).

import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { auditCsvLine, AUDIT_CSV_HEADER, readAudit, recordAudit, TEAM_LOG, wholeAudit, type AuditAction } from '../../domain/audit-log.js';
import { ID_PATTERN } from '../../domain/model.js';
import { getProject } from '../../domain/projects.js';
import { addMember, projectTeam, refuseSelf, removeMember, requireDirectory, ROLES, type Role } from '../../domain/team.js';
import { access } from '../access.js';
import type { AppEnv } from '../types.js';
import { valid } from '../validate.js';

const userId = z.string().trim().min(1).max(128);
const inviteBody = z.object({ userId, email: z.string().trim().email().max(254).optional(), role: z.enum(ROLES as [Role, ...Role[]]).default('labeler'), projectId: z.string().max(63).optional() });
const changeBody = z
  .object({ userId, role: z.enum(ROLES as [Role, ...Role[]]).optional(), enabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.enabled !== undefined, { message: 'name a role or enabled to change', path: ['role'] });
const userBody = z.object({ userId });
const auditQuery = z.object({
  format: z.enum(['json', 'csv', 'jsonl']).default('json'),
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

async function audit(c: Context<AppEnv>, projectId: string, action: AuditAction, target: Record<string, string | number | boolean>) {
  await recordAudit(c.var.deps.stores.blobs, {
    projectId,
    at: new Date(c.var.deps.stores.clock.now()).toISOString(),
    actor: c.var.identity.userId,
    action,
    target,
    requestId: c.get('requestId'),
  });
}

/** A log as JSON pages, or whole as CSV or JSON Lines (a download). */
async function answerLog(c: Context<AppEnv>, projectId: string, q: z.infer<typeof auditQuery>) {
  const blobs = c.var.deps.stores.blobs;
  if (q.format === 'json') return c.json(await readAudit(blobs, projectId, { cursor: q.cursor, limit: q.limit }));
  const lines: string[] = q.format === 'csv' ? [AUDIT_CSV_HEADER] : [];
  for await (const e of wholeAudit(blobs, projectId)) lines.push(q.format === 'csv' ? auditCsvLine(e) : JSON.stringify(e));
  const name = `audit-${projectId === TEAM_LOG ? 'team' : projectId}.${q.format}`;
  c.header('content-disposition', `attachment; filename="${name}"`);
  c.header('content-type', q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
  return c.body(lines.map((l) => `${l}\n`).join(''));
}

export const teamRoutes = new Hono<AppEnv>()
  .get('/users', access('owner'), async (c) => c.json({ users: await requireDirectory(c.var.deps.team).list() }))
  .post('/users', access('owner'), valid('json', inviteBody), async (c) => {
    const body = c.req.valid('json');
    const directory = requireDirectory(c.var.deps.team);
    // Inviting into a project: it must exist and be visible before anyone is created.
    if (body.projectId) await getProject(c.var.deps.stores, body.projectId);
    const invited = await directory.invite({ userId: body.userId, email: body.email, role: body.role });
    const id = invited.account.userId;
    await audit(c, TEAM_LOG, 'user.invite', { userId: id, role: body.role });
    if (body.projectId) {
      await addMember(c.var.deps.stores, body.projectId, id);
      await audit(c, body.projectId, 'member.add', { userId: id });
    }
    return c.json(invited, 201);
  })
  .patch('/users', access('owner'), valid('json', changeBody), async (c) => {
    const body = c.req.valid('json');
    const directory = requireDirectory(c.var.deps.team);
    let account;
    if (body.role !== undefined) {
      if (body.role !== 'owner') refuseSelf(c.var.identity.userId, body.userId, 'demote');
      account = await directory.setRole(body.userId, body.role);
      await audit(c, TEAM_LOG, 'user.role', { userId: account.userId, role: body.role });
    }
    if (body.enabled !== undefined) {
      if (!body.enabled) refuseSelf(c.var.identity.userId, body.userId, 'disable');
      account = await directory.setEnabled(body.userId, body.enabled);
      await audit(c, TEAM_LOG, body.enabled ? 'user.enable' : 'user.disable', { userId: account.userId });
    }
    return c.json({ account });
  })
  .post('/password-resets', access('owner'), valid('json', userBody), async (c) => {
    const { userId: id } = c.req.valid('json');
    const credentials = await requireDirectory(c.var.deps.team).resetPassword(id);
    await audit(c, TEAM_LOG, 'user.password-reset', { userId: id });
    return c.json(credentials);
  })
  // The team's log, or with `project`, that project's log even after the project was deleted (its entries remain).
  .get('/audit', access('owner'), valid('query', auditQuery.extend({ project: z.string().regex(ID_PATTERN, 'a project id').optional() })), async (c) => {
    const q = c.req.valid('query');
    return answerLog(c, q.project ?? TEAM_LOG, q);
  });

export const projectTeamRoutes = new Hono<AppEnv>()
  .get('/:projectId/team', access('owner'), async (c) => {
    const projectId = c.req.param('projectId');
    return c.json({ directory: !!c.var.deps.team, team: await projectTeam(c.var.deps.stores, c.var.deps.team, projectId) });
  })
  .post('/:projectId/members', access('owner'), valid('json', userBody), async (c) => {
    const projectId = c.req.param('projectId');
    const { userId: id } = c.req.valid('json');
    const project = await addMember(c.var.deps.stores, projectId, id);
    await audit(c, projectId, 'member.add', { userId: id });
    return c.json({ members: project.members ?? [] });
  })
  .delete('/:projectId/members', access('owner'), valid('json', userBody), async (c) => {
    const projectId = c.req.param('projectId');
    const { userId: id } = c.req.valid('json');
    const { project, leasesEnded } = await removeMember(c.var.deps.stores, projectId, id);
    await audit(c, projectId, 'member.remove', { userId: id, leasesEnded });
    return c.json({ members: project.members ?? [], leasesEnded });
  })
  .get('/:projectId/audit', access('owner'), valid('query', auditQuery), async (c) => {
    const projectId = c.req.param('projectId');
    await getProject(c.var.deps.stores, projectId);
    return answerLog(c, projectId, c.req.valid('query'));
  });
