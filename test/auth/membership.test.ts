// Who sees which project: admins all, labelers only where they are members.

import { describe, expect, it } from 'vitest';
import { canAccessProject, requireAdmin, requireProjectAccess } from '../../functions/auth/membership.js';

const admin = { userId: 'ada', groups: ['admin'] };
const lin = { userId: 'lin', groups: ['labeler'] };
const sam = { userId: 'sam', groups: ['labeler'] };
// The fields of the Project model that matter here.
const project = (p: { createdBy: string; members?: string[] }) => p;

describe('project membership', () => {
  it('admins see every project', () => {
    expect(canAccessProject(admin, project({ createdBy: 'someone' }))).toBe(true);
  });

  it('labelers see only projects that list them', () => {
    const shared = project({ createdBy: 'ada', members: ['lin'] });
    expect(canAccessProject(lin, shared)).toBe(true);
    expect(canAccessProject(sam, shared)).toBe(false);
    expect(canAccessProject(lin, project({ createdBy: 'ada' }))).toBe(false);
    expect(canAccessProject(lin, project({ createdBy: 'lin', members: [] }))).toBe(false);
    expect(() => requireProjectAccess(sam, shared)).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  it('only admins pass requireAdmin', () => {
    expect(() => requireAdmin(admin)).not.toThrow();
    expect(() => requireAdmin(lin)).toThrow(
      expect.objectContaining({ code: 'forbidden', message: expect.stringContaining('only admins') }),
    );
  });
});
