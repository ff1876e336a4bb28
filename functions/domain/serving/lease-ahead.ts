// Serving one sample ahead: right after a labeler is given a sample, the next one is leased to them in the
// background (the same conditional lease write, the same ranking), and held in this process. When they ask again,
// usually a second or more later, the answer is already here: no store round trip on the labeler's path. It is what
// the web app's own prefetch does one step earlier, on the server, so even a client that asks for one sample at a
// time never waits for a lease write.
//
// What it keeps true: a held sample is leased to its labeler in the store (nobody else can be handed it); it is
// dropped when labeled (this process's label routes say so), and handed out only while at least half its lease is
// left (otherwise it is let go and expires as any unused lease). Only for projects with one label per sample: with
// overlap, whether the labeler may still have a sample depends on labels given elsewhere meanwhile. One process
// only: where a labeler's requests spread over many processes (the cloud's API functions), held samples would sit
// unused until their lease ends, so the cloud composition does not use it.

import type { Project, RankedQueue, Sample } from '../model.js';
import type { Stores } from '../ports.js';
import { inBackground } from '../background.js';
import { getProject } from '../projects.js';
import { modelState, nextSamples, type NextInput, type NextResult } from './next-samples.js';
import { resuggest } from './lease-walk.js';
import { servingMemory } from './head-memory.js';

interface LabelerState {
  projectId: string;
  /** Leased ahead for this labeler, to be handed out on their next request. */
  held?: Sample;
  /** Samples last handed to this labeler and not labeled since (while any is, a request re-serves them first). */
  outstanding: Set<string>;
  /** The answer that handed them out, as it was given. */
  shown?: Sample[];
}

/** How `next` requests were answered (for benchmarks and diagnostics). */
export interface ServeAheadCounts {
  /** From the sample leased ahead, already there: no store round trip. */
  held: number;
  /** From the sample leased ahead, after waiting for its lease still in flight. */
  waitedForLease: number;
  /** The one sample handed out last and not labeled since, again (a reload), as this process knows it still leased. */
  again: number;
  /** As without serving ahead (first request, reload, several at once, nothing held): the lease walk on the request. */
  walked: number;
}

export interface ServeAheadOptions {
  /** Most labelers kept track of at once (the longest idle let go first). */
  maxLabelers?: number;
}

export class ServeAhead {
  private readonly labelers = new Map<string, LabelerState>();
  private readonly filling = new Map<string, Promise<void>>();
  private readonly maxLabelers: number;
  /** How `next` requests were answered since this was made (or `counts` last reset). */
  counts: ServeAheadCounts = { held: 0, waitedForLease: 0, again: 0, walked: 0 };

  constructor(
    private readonly stores: Stores,
    opts: ServeAheadOptions = {},
  ) {
    this.maxLabelers = opts.maxLabelers ?? 10_000;
  }

  async next(input: NextInput): Promise<NextResult> {
    const project = await getProject(this.stores, input.projectId);
    if (project.overlap > 1) {
      this.counts.walked++;
      return nextSamples(this.stores, input);
    }
    const key = labelerKey(input.projectId, input.labelerId);
    const inFlight = this.filling.get(key);
    if (inFlight) await inFlight; // the one being leased for this labeler is about to land
    const state = this.state(key, input.projectId);
    const held = state.held;
    let result: NextResult;
    const again = input.count === 1 ? this.shownAgain(state, input) : undefined;
    if (again) {
      // A reload before labeling: the sample they were looking at, still theirs (reload keeps your place), without a
      // lease write. Its lease is not renewed: as a held one, it is given again only while half of it is left.
      this.counts.again++;
      const ranking = await this.stores.rankings.get(project.id);
      result = { samples: [again], done: false, model: modelState(project, ranking) };
    } else if (held && state.outstanding.size === 0 && input.count === 1 && this.stillFresh(held, input.leaseMs)) {
      // The usual step: the last sample was labeled, the next one is already leased.
      state.held = undefined;
      this.counts[inFlight ? 'waitedForLease' : 'held']++;
      const ranking = await this.stores.rankings.get(project.id);
      result = { samples: [this.current(project, ranking, held)], done: false, model: modelState(project, ranking) };
    } else {
      // Anything else (first request, a reload before labeling, a prefetch of several) is served as without this
      // class, which hands the labeler their own leased samples first, the held one among them.
      this.counts.walked++;
      result = await nextSamples(this.stores, input);
      if (held && (result.samples.some((s) => s.sampleId === held.sampleId) || !this.stillFresh(held, input.leaseMs))) {
        state.held = undefined;
      }
    }
    state.outstanding = new Set(result.samples.map((s) => s.sampleId));
    state.shown = result.samples;
    if (result.samples.length > 0 && !state.held) this.fill(key, state, input);
    return result;
  }

  /** Labels were written (by any route of this process): held samples among them are no longer to be served. */
  labeled(projectId: string, sampleIds: string[]): void {
    for (const state of this.labelers.values()) {
      if (state.projectId !== projectId) continue;
      for (const id of sampleIds) state.outstanding.delete(id);
      if (state.held && sampleIds.includes(state.held.sampleId)) state.held = undefined;
    }
  }

  /** Samples held right now (for tests and diagnostics). */
  held(projectId: string, labelerId: string): Sample | undefined {
    return this.labelers.get(labelerKey(projectId, labelerId))?.held;
  }

  /** Resolves when no lease ahead is in flight. */
  async idle(): Promise<void> {
    while (this.filling.size > 0) await Promise.all(this.filling.values());
  }

  private state(key: string, projectId: string): LabelerState {
    let state = this.labelers.get(key);
    if (state) this.labelers.delete(key); // re-inserted below: most recent last, for the eviction order
    state ??= { projectId, outstanding: new Set() };
    this.labelers.set(key, state);
    if (this.labelers.size > this.maxLabelers) this.labelers.delete(this.labelers.keys().next().value!);
    return state;
  }

  /**
   * The held sample as leased: its suggestion and the probabilities stored with its lease (for the live error) come
   * from the same model, at most a retrain or two old. Only a sample leased before there was any model (cold start)
   * is told the current model's view, and its lease updated in the background (a human takes longer to label it).
   */
  private current(project: Project, ranking: RankedQueue | undefined, held: Sample): Sample {
    if (held.lease?.probs || !ranking?.probs) return held;
    const at = ranking.sampleIds.indexOf(held.sampleId);
    if (at < 0 || !held.lease) return held;
    const sample = resuggest(project, held, ranking.probs.subarray(at * ranking.classes, (at + 1) * ranking.classes));
    void this.stores.samples.lease(project.id, held.sampleId, sample.lease!, this.stores.clock.now()).catch(() => undefined);
    return sample;
  }

  /**
   * The one sample last handed out and not labeled since, as it was handed out, if this process knows it still
   * leased to the labeler at the same version (servingMemory: every lease and label of this process updates it)
   * with at least half its lease left.
   */
  private shownAgain(state: LabelerState, input: NextInput): Sample | undefined {
    const [shown] = state.shown ?? [];
    if (state.outstanding.size !== 1 || state.shown?.length !== 1 || !state.outstanding.has(shown.sampleId)) return undefined;
    const now = this.stores.clock.now();
    const head = servingMemory(this.stores.samples).leasedTo(input.projectId, shown.sampleId, input.labelerId, shown.version, now);
    // The lease must hold what was shown (a sample leased before any model was shown the current model's view, its
    // lease updated in the background: until that lands, the label would lose its live point).
    const same = (a?: number[], b?: number[]) => a === b || (!!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]));
    return head && !head.lease?.skipped && same(head.lease?.probs, shown.lease?.probs) && this.stillFresh(head, input.leaseMs) ? shown : undefined;
  }

  /** Whether at least half of the held sample's lease is left (worth handing out rather than letting expire). */
  private stillFresh(sample: Sample, leaseMs: number): boolean {
    return (sample.lease?.until ?? 0) - this.stores.clock.now() >= leaseMs / 2;
  }

  private fill(key: string, state: LabelerState, input: NextInput): void {
    if (this.filling.has(key)) return;
    // Background work: the labeler asks for it a second or more later.
    const work = inBackground(() => nextSamples(this.stores, { ...input, count: 1, exclude: new Set(state.outstanding) }))
      .then(({ samples: [sample] }) => {
        if (sample && !state.outstanding.has(sample.sampleId)) state.held = sample;
      })
      .catch(() => undefined) // the labeler's next request is served the usual way
      .finally(() => this.filling.delete(key));
    this.filling.set(key, work);
  }
}

const labelerKey = (projectId: string, labelerId: string) => `${projectId}\n${labelerId}`;
