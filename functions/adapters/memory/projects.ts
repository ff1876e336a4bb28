// In-memory ProjectStore: same conditional semantics as the DynamoDB adapter.

import { ConditionFailed } from '../../domain/errors.js';
import type { Project } from '../../domain/model.js';
import type { ProjectStore } from '../../domain/ports.js';
import { plainCopy } from '../plain.js';
import { sortByKey } from './page.js';

export class MemoryProjectStore implements ProjectStore {
  private readonly projects = new Map<string, Project>();

  async create(project: Project): Promise<void> {
    if (this.projects.has(project.id)) throw new ConditionFailed(`project ${project.id} already exists`);
    this.projects.set(project.id, plainCopy(project));
  }

  async get(projectId: string): Promise<Project | undefined> {
    const project = this.projects.get(projectId);
    return project && plainCopy(project);
  }

  /** Ordered by id, as the DynamoDB adapter returns them. */
  async list(): Promise<Project[]> {
    return sortByKey(this.projects.values(), (p) => p.id).map(plainCopy);
  }

  async update(project: Project, expectedVersion: number): Promise<Project> {
    const stored = this.projects.get(project.id);
    if (!stored || stored.version !== expectedVersion) {
      throw new ConditionFailed(`project ${project.id} is not at version ${expectedVersion}`);
    }
    const next = plainCopy({ ...project, version: expectedVersion + 1 });
    this.projects.set(project.id, next);
    return plainCopy(next);
  }

  /** Every stored id (a scan), for tests that check a deletion left nothing. */
  projectIds(): string[] {
    return [...this.projects.keys()];
  }

  async delete(projectId: string): Promise<void> {
    this.projects.delete(projectId);
  }
}
