// In-memory LabelerStore: the same pure tally updates as the DynamoDB adapter, without the optimistic retry loop
// (nothing interleaves inside one synchronous update here).

import type { Labeler, LabelerEntry } from '../../domain/model.js';
import type { LabelerStore } from '../../domain/ports.js';
import { emptyTally, tallyLabel, tallyUndo, toLabeler, type LabelerTally } from '../labeler-tally.js';
import { compareKeys } from '../keys.js';
import { plainCopy } from '../plain.js';

export class MemoryLabelerStore implements LabelerStore {
  /** projectId -> labelerId -> tally */
  private readonly tallies = new Map<string, Map<string, LabelerTally>>();

  async get(projectId: string, labelerId: string): Promise<Labeler | undefined> {
    const tally = this.tallies.get(projectId)?.get(labelerId);
    return tally && toLabeler(tally);
  }

  async list(projectId: string): Promise<Labeler[]> {
    return [...(this.tallies.get(projectId)?.values() ?? [])]
      .sort((a, b) => compareKeys(a.labelerId, b.labelerId))
      .map(toLabeler);
  }

  async recordLabel(projectId: string, labelerId: string, entry: LabelerEntry, at: string): Promise<Labeler> {
    const current = this.tallies.get(projectId)?.get(labelerId) ?? emptyTally(projectId, labelerId);
    const next = tallyLabel(current, entry, at);
    if (next) this.store(next);
    return toLabeler(next ?? current);
  }

  async recordUndo(projectId: string, labelerId: string, entry: LabelerEntry, _at: string): Promise<Labeler> {
    const current = this.tallies.get(projectId)?.get(labelerId) ?? emptyTally(projectId, labelerId);
    const next = tallyUndo(current, entry);
    if (next) this.store(next);
    return toLabeler(next ?? current);
  }

  async delete(projectId: string, labelerId: string): Promise<void> {
    const project = this.tallies.get(projectId);
    project?.delete(labelerId);
    if (project?.size === 0) this.tallies.delete(projectId);
  }

  /** Projects with tallies (a scan), for tests that check a deletion left nothing. */
  projectIds(): string[] {
    return [...this.tallies.keys()];
  }

  private store(tally: LabelerTally): void {
    let project = this.tallies.get(tally.projectId);
    if (!project) {
      project = new Map();
      this.tallies.set(tally.projectId, project);
    }
    project.set(tally.labelerId, plainCopy(tally));
  }
}
