// The team, as owners manage it from the app. Two things decide what a person may do: their account in the user
// directory (the local issuer's users file, or the Cognito user pool: may they sign in at all, are they an owner)
// and each project's member list (may they label this project). Accounts live behind the UserDirectory port; the
// member list is the project record's `members`.

import { badRequest, conflict, ConditionFailed, notFound, WinnowError } from './errors.js';
import type { Project } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';

/** An owner administers every project (the `admin` group); a labeler labels the projects that list them. */
export type Role = 'owner' | 'labeler';
export const ROLES: readonly Role[] = ['owner', 'labeler'];

export interface Account {
  /** The name the API knows the user by (what a project's member list holds). */
  userId: string;
  email?: string;
  role: Role;
  /** A disabled account cannot sign in, and tokens it already holds are refused on every request. */
  enabled: boolean;
  /** The directory's own word for the account's state, e.g. FORCE_CHANGE_PASSWORD (Cognito). */
  status?: string;
  createdAt?: string;
}

/** How a new or reset temporary password reaches the person. */
export interface Credentials {
  /** Shown once to the owner who asked, to pass on (local issuer: there is no mail server). */
  temporaryPassword?: string;
  /** 'shown-once': the owner passes it on; 'email': the directory mailed it (Cognito). */
  delivery: 'shown-once' | 'email';
}

/** Who may sign in, with which role: the local users file, or the Cognito user pool. */
export interface UserDirectory {
  list(): Promise<Account[]>;
  /** The account as it is now (undefined: no such user, e.g. removed). Read on every request (see currentAccount). */
  get(userId: string): Promise<Account | undefined>;
  invite(input: { userId: string; email?: string; role: Role }): Promise<{ account: Account } & Credentials>;
  setRole(userId: string, role: Role): Promise<Account>;
  setEnabled(userId: string, enabled: boolean): Promise<Account>;
  resetPassword(userId: string): Promise<Credentials>;
}

/** One row of a project's team page: the account (if the directory knows it), membership and work done. */
export interface TeamRow {
  userId: string;
  role: Role;
  /** Listed in the project's members (owners may work in every project without being listed). */
  member: boolean;
  enabled: boolean;
  /** False when the directory has no such account (a member name typed before the account existed, or removed). */
  hasAccount: boolean;
  email?: string;
  status?: string;
  /** Labels in effect by this person in the project, and when they last labeled. */
  labels: number;
  lastLabelAt?: string;
}

const byUser = (a: { userId: string }, b: { userId: string }) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);

/** Everyone who matters to a project: its members, whoever labeled in it, and every account (to add them). */
export async function projectTeam(stores: Stores, directory: UserDirectory | undefined, projectId: string): Promise<TeamRow[]> {
  const project = await getProject(stores, projectId);
  const [accounts, labelers] = await Promise.all([directory?.list() ?? Promise.resolve([]), stores.labelers.list(projectId)]);
  const account = new Map(accounts.map((a) => [a.userId, a]));
  const work = new Map(labelers.map((l) => [l.labelerId, l]));
  const members = new Set(project.members ?? []);
  const ids = new Set([...members, ...work.keys(), ...accounts.map((a) => a.userId)]);
  return [...ids]
    .map((userId): TeamRow => {
      const a = account.get(userId);
      const l = work.get(userId);
      return {
        userId,
        role: a?.role ?? 'labeler',
        member: members.has(userId),
        enabled: a?.enabled ?? true,
        hasAccount: !!a,
        ...(a?.email ? { email: a.email } : {}),
        ...(a?.status ? { status: a.status } : {}),
        labels: l?.total ?? 0,
        ...(l?.lastAt ? { lastLabelAt: l.lastAt } : {}),
      };
    })
    .sort(byUser);
}

/** Applies a change to the member list, retrying when someone else edited the project meanwhile. */
async function changeMembers(stores: Stores, projectId: string, change: (members: string[]) => string[]): Promise<Project> {
  for (let attempt = 0; ; attempt++) {
    const current = await getProject(stores, projectId);
    const members = change([...(current.members ?? [])]);
    try {
      return await stores.projects.update({ ...current, members }, current.version);
    } catch (err) {
      if (!(err instanceof ConditionFailed) || attempt >= 4) throw err;
    }
  }
}

export async function addMember(stores: Stores, projectId: string, userId: string): Promise<Project> {
  if (!userId.trim()) throw badRequest('userId: name the person to add', { field: 'userId' });
  return changeMembers(stores, projectId, (m) => (m.includes(userId) ? m : [...m, userId].sort()));
}

/**
 * Takes the person off the project: their next request answers as for any project they are not in, and the
 * samples they hold leased go back to the others at once (not when the lease would have run out).
 */
export async function removeMember(stores: Stores, projectId: string, userId: string): Promise<{ project: Project; leasesEnded: number }> {
  const before = await getProject(stores, projectId);
  if (!(before.members ?? []).includes(userId)) throw notFound(`member "${userId}" of project "${projectId}"`);
  const project = await changeMembers(stores, projectId, (m) => m.filter((x) => x !== userId));
  return { project, leasesEnded: await endLeases(stores, projectId, userId) };
}

/** Ends every unexpired lease `labelerId` holds in the project; how many. Reads the unlabeled queue once. */
export async function endLeases(stores: Stores, projectId: string, labelerId: string): Promise<number> {
  const now = stores.clock.now();
  let ended = 0;
  let after: string | undefined;
  for (;;) {
    const page = await stores.samples.queue(projectId, { after, limit: 1000 });
    for (const s of page) {
      if (s.lease?.labelerId !== labelerId || s.lease.until < now) continue;
      if (await stores.samples.lease(projectId, s.sampleId, { labelerId, until: now - 1 }, now)) ended++;
    }
    if (page.length < 1000) return ended;
    after = page[page.length - 1].queueKey;
  }
}

/** The directory, or a clear refusal where there is none (the local stack without sign-in has no accounts). */
export function requireDirectory(directory: UserDirectory | undefined): UserDirectory {
  if (!directory) {
    throw conflict('this server has no user accounts to manage: start it with sign-in on (npm start -- --auth) or use the cloud deployment');
  }
  return directory;
}

/** Owners may not lock themselves out: the last thing an owner should be able to do by mistake. */
export function refuseSelf(actor: string, target: string, what: string): void {
  if (actor === target) throw new WinnowError('conflict', `you cannot ${what} yourself; ask another owner`);
}
