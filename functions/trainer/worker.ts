// The local stand-in for the trainer queue + Lambda: an in-process worker that retrains a project after every
// K new labels or T ms after the first unprocessed change (debounced), one run at a time per project.

import type { Log, Stores } from '../domain/ports.js';
import type { RetrainResult } from '../domain/retrain.js';
import type { SimilarOptions } from '../domain/similar.js';
import { inProcessRunner, type TrainerRunner } from './runner.js';

export interface TrainerWorkerOptions {
  embedder?: string;
  /** Retrain as soon as this many labels changed (default 4, as the origin annotator did). */
  everyLabels?: number;
  /** ...or this long after the first change that is not trained on yet (default 3 s). */
  afterMs?: number;
  /** The deployment's audit rate (WINNOW_AUDIT_RATE) for projects without their own; default 1 in 10. */
  auditRate?: number;
  log?: Log;
  /** Called after a retrain replaced the project's ranking; the run counts as finished once it resolves. */
  onRetrained?: (projectId: string) => void | Promise<void>;
}

interface ProjectSlot {
  changed: Set<string>;
  /** True when something other than labels changed (new images) or the first read is still to do. */
  dirty: boolean;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  last?: RetrainResult & { at: number };
}

export class TrainerWorker {
  private readonly slots = new Map<string, ProjectSlot>();
  private closed = false;
  private readonly runner: TrainerRunner;

  constructor(
    private readonly stores: Stores,
    private readonly opts: TrainerWorkerOptions = {},
    runner?: TrainerRunner,
  ) {
    this.runner = runner ?? inProcessRunner(stores);
  }

  /** A label or undo changed these samples. */
  labeled(projectId: string, sampleIds: string[]): void {
    const slot = this.slot(projectId);
    for (const id of sampleIds) slot.changed.add(id);
    this.schedule(projectId, slot, slot.changed.size >= (this.opts.everyLabels ?? 4));
  }

  /** New images (embeddings) arrived for the project. */
  ingested(projectId: string): void {
    const slot = this.slot(projectId);
    slot.dirty = true;
    this.schedule(projectId, slot, false);
  }

  /** Look-alikes of a sample (shares the project's cached embeddings with training). */
  async similar(projectId: string, sampleId: string, k: number, opts?: SimilarOptions) {
    const project = await this.stores.projects.get(projectId);
    const embedder = project?.embedding?.model ?? this.opts.embedder;
    if (!embedder) return [];
    return this.runner.similar(projectId, embedder, sampleId, k, opts);
  }

  lastRun(projectId: string) {
    return this.slots.get(projectId)?.last;
  }

  /** Resolves when no retrain is running (a debounced one may still be scheduled). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.slots.values()].flatMap((s) => (s.running ? [s.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Retrains the project now, with every change so far, and waits for it (tests, benchmarks, CLI). */
  async flush(projectId: string): Promise<RetrainResult | undefined> {
    // Labels already answered reach their heads (and this worker's list of changes) first.
    await this.stores.labelCompletions?.settled(projectId);
    const slot = this.slot(projectId);
    clearTimeout(slot.timer);
    slot.timer = undefined;
    while (slot.running) await slot.running;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.dirty = true;
    slot.running = this.run(projectId, slot);
    await slot.running;
    return slot.last;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    await Promise.all([...this.slots.values()].map((s) => s.running));
    await this.runner.close();
  }

  private slot(projectId: string): ProjectSlot {
    let slot = this.slots.get(projectId);
    if (!slot) {
      slot = { changed: new Set(), dirty: true };
      this.slots.set(projectId, slot);
    }
    return slot;
  }

  private schedule(projectId: string, slot: ProjectSlot, now: boolean): void {
    if (this.closed) return;
    if (slot.running) return; // the run in progress re-checks for changes when it ends
    if (now) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.running = this.run(projectId, slot);
    } else {
      slot.timer ??= setTimeout(() => {
        slot.timer = undefined;
        slot.running = this.run(projectId, slot);
      }, this.opts.afterMs ?? 3000);
    }
  }

  private async run(projectId: string, slot: ProjectSlot): Promise<void> {
    const changed = [...slot.changed];
    slot.changed.clear();
    slot.dirty = false;
    try {
      const project = await this.stores.projects.get(projectId);
      const embedder = project?.embedding?.model ?? this.opts.embedder;
      if (project && embedder) {
        const result = await this.runner.retrain({
          project,
          embedder,
          changed,
          batchSize: this.opts.everyLabels ?? 4,
          ...(this.opts.auditRate !== undefined ? { auditRate: this.opts.auditRate } : {}),
        });
        if (result) {
          slot.last = { ...result, at: Date.now() };
          await this.opts.onRetrained?.(projectId);
          this.opts.log?.(
            `trainer: ${projectId} generation ${result.generation}: ${result.labels} labels, ${result.samples} samples, ` +
              `${result.coldStart ? 'cold start' : 'trained'} in ${Math.round(result.ms.total)} ms`,
          );
        }
      }
    } catch (err) {
      this.opts.log?.(`trainer: ${projectId} failed: ${(err as Error).message}`);
      for (const id of changed) slot.changed.add(id); // keep them for the next try
    } finally {
      slot.running = undefined;
      if (slot.changed.size > 0 || slot.dirty) this.schedule(projectId, slot, slot.changed.size >= (this.opts.everyLabels ?? 4));
    }
  }
}
