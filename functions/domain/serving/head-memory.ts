// What this process has seen of sample heads, so that serving and labeling need not re-read them on every request.
// It is only ever a hint that saves calls: every lease stays a conditional write and every label stays claimed by a
// conditional put on the sample's version, so a stale memory can make a request skip a free sample for a while, or
// try a write that is then refused, but never hand out a leased sample or land a label on the wrong version.
// One memory per SampleStore instance, i.e. per process (each entry point builds its stores once); other
// processes (the cloud runs many API Lambdas) keep their own and learn what they miss from refused writes.

import type { Sample } from '../model.js';

/** How long "someone else has it" (a foreign lease, a refused lease write) is trusted before checking again. */
export const TAKEN_TRUST_MS = 60_000;
/** How long "it needs no more labels" is trusted (an undo in another process puts a sample back in the queue). */
export const DONE_TRUST_MS = 60_000;
/**
 * A label skips re-reading the sample only while the lease this process saw has at least this long to run: other
 * processes compare lease expiries with their own clocks, so no one else can have taken it over meanwhile.
 */
export const LEASE_MARGIN_MS = 5_000;
/** Entries kept per process before old ones are dropped. */
const MAX_ENTRIES = 100_000;

export type Verdict =
  /** Free as far as this process knows (or leased to this labeler): worth a lease write. */
  | 'free'
  /** Another labeler holds it, or another request of this process is taking it. */
  | 'taken'
  /** A lease write for it was refused lately, for a reason unknown (leased to whom? labeled?): read it to know. */
  | 'refused'
  /** Needs no more labels (from this labeler), or does not exist. */
  | 'done'
  /** Not seen lately. */
  | 'unknown';

interface Seen {
  sample?: Sample;
  /** When the call that observed it was issued (later observations of the same version win). */
  at: number;
  /** When a lease write for it was last refused (the store does not say why). */
  refusedAt?: number;
  /** The sample does not exist. */
  gone?: boolean;
}

interface ProjectMemory {
  /** Per sample, in order of last change (oldest first). */
  seen: Map<string, Seen>;
  /** Samples a request of this process is leasing right now. */
  inFlight: Set<string>;
}

export class ServingMemory {
  private readonly projects = new Map<string, ProjectMemory>();
  private entries = 0;

  /** Records a head read consistently or returned by a write issued at `at`. */
  learn(sample: Sample, at: number): void {
    const known = this.get(sample.projectId, sample.sampleId);
    const older = known?.sample && (known.sample.version > sample.version || (known.sample.version === sample.version && known.at > at));
    if (older) return;
    this.set(sample.projectId, sample.sampleId, { sample, at });
  }

  /** A lease write was refused: someone else has the sample, or it left the queue. */
  refused(projectId: string, sampleId: string, at: number): void {
    const known = this.get(projectId, sampleId);
    this.set(projectId, sampleId, { sample: known?.sample, at: known?.at ?? at, refusedAt: at });
  }

  /** A sample that does not exist (anymore): treated as done. */
  missing(projectId: string, sampleId: string, at: number): void {
    this.set(projectId, sampleId, { at, gone: true });
  }

  /** Marks a lease write in flight, so that concurrent requests of this process try other samples; false if taken. */
  claim(projectId: string, sampleId: string): boolean {
    const inFlight = this.project(projectId).inFlight;
    if (inFlight.has(sampleId)) return false;
    inFlight.add(sampleId);
    return true;
  }

  release(projectId: string, sampleId: string): void {
    this.projects.get(projectId)?.inFlight.delete(sampleId);
  }

  verdict(projectId: string, sampleId: string, labelerId: string, now: number): Verdict {
    const memory = this.projects.get(projectId);
    if (!memory) return 'unknown';
    if (memory.inFlight.has(sampleId)) return 'taken';
    const known = memory.seen.get(sampleId);
    if (!known) return 'unknown';
    if (known.gone) return now - known.at < DONE_TRUST_MS ? 'done' : 'unknown';
    if (known.refusedAt !== undefined && known.refusedAt >= known.at && now - known.refusedAt < TAKEN_TRUST_MS) return 'refused';
    const sample = known.sample;
    if (!sample) return 'unknown';
    if (!sample.queueKey || sample.labeledBy.includes(labelerId)) return now - known.at < DONE_TRUST_MS ? 'done' : 'unknown';
    const lease = sample.lease;
    if (!lease || lease.labelerId === labelerId || lease.until <= now) return 'free';
    return now - known.at < TAKEN_TRUST_MS ? 'taken' : 'unknown';
  }

  /**
   * The head as this process last saw it, if that was at `version` with a lease held by `labelerId` for at least
   * LEASE_MARGIN_MS more. Then nobody else can have leased it since, and its label state can only have changed
   * through an annotation record at `version`, which the label write's conditional claim would run into.
   */
  leasedTo(projectId: string, sampleId: string, labelerId: string, version: number, now: number): Sample | undefined {
    const sample = this.get(projectId, sampleId)?.sample;
    if (!sample || sample.version !== version || !sample.queueKey) return undefined;
    const lease = sample.lease;
    return lease && lease.labelerId === labelerId && lease.until - LEASE_MARGIN_MS > now ? sample : undefined;
  }

  /** The head as last seen, if any. */
  head(projectId: string, sampleId: string): Sample | undefined {
    return this.get(projectId, sampleId)?.sample;
  }

  private get(projectId: string, sampleId: string): Seen | undefined {
    return this.projects.get(projectId)?.seen.get(sampleId);
  }

  private project(projectId: string): ProjectMemory {
    let memory = this.projects.get(projectId);
    if (!memory) this.projects.set(projectId, (memory = { seen: new Map(), inFlight: new Set() }));
    return memory;
  }

  private set(projectId: string, sampleId: string, entry: Seen): void {
    const seen = this.project(projectId).seen;
    if (seen.delete(sampleId)) this.entries--; // re-inserted last: the map stays in order of last change
    seen.set(sampleId, entry);
    if (++this.entries > MAX_ENTRIES) this.dropOldest();
  }

  /** Drops the oldest tenth of every project's entries (they are the least likely to matter). */
  private dropOldest(): void {
    for (const { seen } of this.projects.values()) {
      let drop = Math.ceil(seen.size / 10);
      for (const key of seen.keys()) {
        if (drop-- <= 0) break;
        seen.delete(key);
        this.entries--;
      }
    }
  }
}

const memories = new WeakMap<object, ServingMemory>();

/** The memory of the process that owns this sample store. */
export function servingMemory(samples: object): ServingMemory {
  let memory = memories.get(samples);
  if (!memory) memories.set(samples, (memory = new ServingMemory()));
  return memory;
}
