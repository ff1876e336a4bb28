// Who may see a project. Admins see all; a labeler sees only the projects that list them as a member (not
// even ones they once created as an admin: removing someone from `admin` and `members` must end their access).
// Pure: the API calls it after loading the project.

import { WinnowError } from '../domain/errors.js';
import type { Identity } from '../api/types.js';
import { GROUPS } from './groups.js';

export interface ProjectMembership {
  /** userIds of the labelers who may label the project; absent = admins only. */
  members?: string[];
}

export const isAdmin = (identity: Identity) => identity.groups.includes(GROUPS.admin);

export function canAccessProject(identity: Identity, project: ProjectMembership): boolean {
  if (isAdmin(identity)) return true;
  return project.members?.includes(identity.userId) ?? false;
}

export function requireAdmin(identity: Identity): void {
  if (!isAdmin(identity)) throw new WinnowError('forbidden', 'only admins may do this; ask an admin of this Winnow');
}

export function requireProjectAccess(identity: Identity, project: ProjectMembership): void {
  if (!canAccessProject(identity, project)) {
    throw new WinnowError('forbidden', 'you are not a member of this project; ask an admin to add you');
  }
}
