// One next-sample request: walk the ranking (then the upload-order queue) and lease the first samples this labeler
// may have. What this process already knows about sample heads (head-memory.ts) decides what needs a read:
// with overlap 1 the lease write's own condition (still queued, not leased by someone else) is the whole test, so a
// sample not known to be taken is leased with that one conditional write, which returns the sample. Heads are read
// in bulk only when the lease condition cannot tell (overlap: did this labeler already label it?) or after a refused
// write (another process is taking samples here: learn the page rather than fail one write at a time).

import { auditIndex, auditRate, inAuditSet, isAuditDraw } from '../learning/audit.js';
import type { Lease, Project, RankedQueue, Sample, Suggestion } from '../model.js';
import type { Stores } from '../ports.js';
import { servingMemory, type ServingMemory, type Verdict } from './head-memory.js';

export interface ServingRequest {
  labelerId: string;
  /** How many samples to lease (prefetch). */
  count: number;
  leaseMs: number;
  /** Samples not to serve this time (e.g. the ones the labeler was just given). */
  exclude?: ReadonlySet<string>;
  /** Uniform random numbers in [0, 1) for the audit draws (default Math.random). */
  random?: () => number;
  /** The deployment's audit rate, for projects without their own (default learning/audit.ts's). */
  defaultAuditRate?: number;
}

const PAGE = 100;
const MAX_QUEUE_PAGES = 50;

export class Serving {
  readonly leased: Sample[] = [];
  /** Whether any sample this labeler could still label was seen (leased to someone else counts). */
  sawCandidate = false;
  private losses = 0;
  /** Samples this request already tried to lease (the queue fallback does not try them again). */
  private readonly tried = new Set<string>();
  /** Free samples this labeler skipped earlier: served only when nothing else is left for them. */
  private readonly deferred: { sampleId: string; probs?: Float32Array }[] = [];
  private readonly memory: ServingMemory;
  private readonly optimistic: boolean;
  private readonly startedAt: number;
  private readonly rate: number;
  private readonly salt: string | undefined;
  private readonly random: () => number;

  constructor(
    private readonly stores: Stores,
    private readonly project: Project,
    private readonly request: ServingRequest,
  ) {
    this.memory = servingMemory(stores.samples);
    // With overlap 1 a sample that still needs labels has none, so the lease write's own condition is the whole test.
    this.optimistic = project.overlap <= 1;
    this.startedAt = stores.clock.now();
    this.rate = auditRate(project.auditRate, request.defaultAuditRate);
    this.salt = project.auditSalt;
    this.random = request.random ?? Math.random;
  }

  full(): boolean {
    return this.leased.length >= this.request.count;
  }

  async fromRanking(ranking: RankedQueue): Promise<void> {
    const ids = ranking.sampleIds;
    for (let start = 0; start < ids.length && !this.full(); start += PAGE) {
      await this.walkPage(ids.slice(start, start + PAGE), (i) => probsOf(ranking, start + i), ranking);
    }
  }

  /**
   * One audit draw (learning/audit.ts): a sample drawn uniformly at random among the audit set's ranked samples still
   * free for this labeler (rejection sampling), leased with the model's probabilities and marked as an audit. It takes
   * the place of the next ranked sample: nothing tells the labeler. False when no draw landed.
   */
  private async auditDraw(ranking: RankedQueue): Promise<boolean> {
    const positions = auditPositions(ranking, this.rate, this.salt);
    const n = positions.length;
    for (let attempt = 0; attempt < (n > 0 ? 8 : 0); attempt++) {
      const i = positions[auditIndex(this.random(), n)];
      const id = ranking.sampleIds[i];
      if (this.request.exclude?.has(id) || this.tried.has(id) || this.heldByMe(id) || this.skippedByMe(id)) continue;
      const verdict = this.verdict(id);
      if (verdict !== 'free' && verdict !== 'unknown') continue;
      if ((await this.take(id, probsOf(ranking, i), true)) === true) return true;
    }
    return false;
  }

  /** Samples this labeler skipped, once everything else is served (a skip is "later", never "never"). */
  async fromDeferred(): Promise<void> {
    for (const { sampleId, probs } of this.deferred) {
      if (this.full()) return;
      if (this.leased.some((s) => s.sampleId === sampleId)) continue;
      await this.take(sampleId, probs);
    }
  }

  /** Before the first ranking, and after it runs dry: upload order, from the queue index. */
  async fromQueue(): Promise<void> {
    let after: string | undefined;
    for (let page = 0; page < MAX_QUEUE_PAGES && !this.full(); page++) {
      const candidates = await this.stores.samples.queue(this.project.id, { after, limit: PAGE });
      if (candidates.length === 0) break;
      after = candidates[candidates.length - 1].queueKey;
      // The index may lag a write; what this process saw itself is at least as new.
      const free = candidates.filter(
        (c) => !this.tried.has(c.sampleId) && !this.request.exclude?.has(c.sampleId) && this.eligible(c) && !skip(this.verdict(c.sampleId)),
      );
      for (let i = free.length - 1; i >= 0; i--) {
        if (!isSkippedBy(free[i], this.request.labelerId) && !this.skippedByMe(free[i].sampleId)) continue;
        if (!this.deferred.some((d) => d.sampleId === free[i].sampleId)) this.deferred.push({ sampleId: free[i].sampleId });
        free.splice(i, 1);
      }
      await leaseSpread(free, this.request.count - this.leased.length, async (c) => {
        if (skip(this.verdict(c.sampleId))) return undefined; // taken meanwhile by another request of this process
        const got = await this.take(c.sampleId);
        if (got === false) this.losses++;
        return got;
      });
      if (candidates.length < PAGE) break;
    }
  }

  private async walkPage(ids: string[], probsAt: (i: number) => Float32Array | undefined, ranking: RankedQueue): Promise<void> {
    const audits = !!ranking.probs && !ranking.coldStart && this.rate > 0;
    const set = this.rate > 0 ? auditPositions(ranking, this.rate, this.salt) : [];
    // Heads worth reading: refused ones (whose holder may be this labeler), and unknown ones once a write was
    // refused; with overlap also the free ones (this labeler may have labeled them through another process).
    let read = false;
    const readPage = () => {
      read = true;
      return this.readHeads(ids.filter((id) => this.worthReading(id)));
    };
    if (!this.optimistic) await readPage();
    // The rest of one candidate's walk, for those that may need a store call.
    const considerCandidate = async (i: number, id: string, seen: Verdict, mustRead: boolean): Promise<boolean | undefined> => {
      let verdict = seen;
      if (mustRead) {
        await readPage();
        verdict = this.verdict(id);
      }
      if (verdict === 'taken' || verdict === 'refused') this.sawCandidate = true;
      if (verdict !== 'free' && verdict !== 'unknown') return undefined;
      if (verdict === 'free') this.sawCandidate = true;
      if (this.skippedByMe(id)) {
        this.deferred.push({ sampleId: id, probs: probsAt(i) });
        return undefined;
      }
      // Each new lease (not one this labeler holds already) is an audit draw with probability `rate`.
      if (audits && !this.heldByMe(id) && isAuditDraw(this.random(), this.rate) && (await this.auditDraw(ranking))) return true;
      const got = await this.take(id, probsAt(i));
      if (got !== false) return got;
      // Refused: learn why, with the rest of the page. Only a lease taken since this request began is a lost race
      // (others asking at the same moment); a sample that had left the queue, or was leased before, was just unknown.
      this.losses++;
      await readPage();
      if (this.verdict(id) === 'done') return undefined;
      this.sawCandidate = true;
      const lease = this.memory.head(this.project.id, id)?.lease;
      return lease && lease.until - this.request.leaseMs > this.startedAt ? false : undefined;
    };
    // Most candidates near the top of a busy ranking are known taken or done: those are passed over without a
    // promise (leaseSpread awaits only what is one), which is most of what a walk used to allocate.
    await leaseSpread(pageIndexes(ids.length), this.request.count - this.leased.length, (i) => {
      const id = ids[i];
      if (this.request.exclude?.has(id)) return undefined;
      // The audit set is served only by audit draws: what active learning leaves of it stays a uniform sample.
      if (set.length > 0 && inAuditSet(id, this.rate, this.salt) && !this.heldByMe(id)) return undefined;
      const verdict = this.verdict(id);
      const mustRead = verdict === 'refused' || (verdict === 'unknown' && this.losses > 0 && !read);
      if (!mustRead && (verdict === 'taken' || verdict === 'done')) {
        if (verdict === 'taken') this.sawCandidate = true;
        return undefined;
      }
      return considerCandidate(i, id, verdict, mustRead);
    });
  }

  private worthReading(sampleId: string): boolean {
    const verdict = this.verdict(sampleId);
    return verdict === 'refused' || verdict === 'unknown' || (!this.optimistic && verdict === 'free');
  }

  /** Whether this process knows the sample as skipped by this labeler (and not leased by anyone since). */
  private skippedByMe(sampleId: string): boolean {
    const head = this.memory.head(this.project.id, sampleId);
    return !!head && isSkippedBy(head, this.request.labelerId);
  }

  /** Whether this labeler holds an unexpired lease on it (it is in their hands already). */
  private heldByMe(sampleId: string): boolean {
    const lease = this.memory.head(this.project.id, sampleId)?.lease;
    return !!lease && !lease.skipped && lease.labelerId === this.request.labelerId && lease.until > this.stores.clock.now();
  }

  /** One conditional lease write; true = leased, false = refused, undefined = another request here is on it. */
  private async take(sampleId: string, probs?: Float32Array, audit = false): Promise<boolean | undefined> {
    const { memory, project, request } = this;
    // Once per answer: an audit draw may already have leased a sample the ranked walk reaches later (held by this
    // labeler by then, so its lease write would succeed again).
    if (this.tried.has(sampleId)) return undefined;
    if (!memory.claim(project.id, sampleId)) {
      this.sawCandidate = true;
      return undefined;
    }
    this.tried.add(sampleId);
    try {
      const now = this.stores.clock.now();
      const lease: Lease = {
        labelerId: request.labelerId,
        until: now + request.leaseMs,
        ...(probs ? { probs: Array.from(probs, round4) } : {}),
        ...(audit && probs ? { audit: true } : {}),
      };
      const sample = await this.stores.samples.lease(project.id, sampleId, lease, now);
      if (!sample) {
        memory.refused(project.id, sampleId, now);
        return false;
      }
      memory.learn(sample, now);
      this.leased.push(modelView(project, sample, probs));
      return true;
    } finally {
      memory.release(project.id, sampleId);
    }
  }

  private async readHeads(sampleIds: string[]): Promise<void> {
    if (sampleIds.length === 0) return;
    const at = this.stores.clock.now();
    const heads = await this.stores.samples.getSamples(this.project.id, sampleIds);
    for (const head of heads) this.memory.learn(head, at);
    if (heads.length < sampleIds.length) {
      const found = new Set(heads.map((h) => h.sampleId));
      for (const id of sampleIds) if (!found.has(id)) this.memory.missing(this.project.id, id, at);
    }
  }

  private verdict(sampleId: string): Verdict {
    return this.memory.verdict(this.project.id, sampleId, this.request.labelerId, this.stores.clock.now());
  }

  /** Whether this labeler may be given the candidate now, judged from its head (it needs labels, not from them, and is not held). */
  private eligible(candidate: Sample): boolean {
    if (!candidate.queueKey || candidate.labeledBy.includes(this.request.labelerId)) return false; // done, or mine already
    this.sawCandidate = true;
    const held = candidate.lease;
    return !(held && held.labelerId !== this.request.labelerId && held.until > this.stores.clock.now());
  }
}

const auditSets = new WeakMap<RankedQueue, { rate: number; salt: string | undefined; positions: number[] }>();

/** Positions in the ranking of the audit set's samples (learning/audit.ts), worked out once per ranking. */
export function auditPositions(ranking: RankedQueue, rate: number, salt: string | undefined): number[] {
  const known = auditSets.get(ranking);
  if (known && known.rate === rate && known.salt === salt) return known.positions;
  const positions: number[] = [];
  ranking.sampleIds.forEach((id, i) => {
    if (inAuditSet(id, rate, salt)) positions.push(i);
  });
  auditSets.set(ranking, { rate, salt, positions });
  return positions;
}

/** A sample its labeler handed back with a skip, not leased by anyone since. */
const isSkippedBy = (sample: Sample, labelerId: string) => !!sample.lease?.skipped && sample.lease.labelerId === labelerId;

/** Known to be out of reach; a 'refused' one is left to the queue's own copy of the head (it names the holder). */
const skip = (verdict: Verdict) => verdict === 'taken' || verdict === 'done';

const INDEXES = Array.from({ length: PAGE }, (_, i) => i);
const pageIndexes = (n: number) => (n === PAGE ? INDEXES : INDEXES.slice(0, n));

/** Largest random jump (in candidates) after lost races. */
const MAX_STRIDE = 32;

/**
 * Leases up to `want` of `candidates`, best first. Labelers of different processes asking at the same moment read
 * the same candidates; walking them in the same order, each would lose the race for every sample another had just
 * taken (n^2 failed conditional writes for n labelers). So after each lost race, jump ahead a random stride that
 * doubles with every loss, and come back for the skipped candidates if still short. Without a race nothing changes:
 * a labeler gets exactly the best free samples. `take` answers true (leased), false (lost a race) or undefined
 * (not a candidate after all).
 */
export async function leaseSpread<T>(
  candidates: T[],
  want: number,
  take: (candidate: T) => boolean | undefined | Promise<boolean | undefined>,
): Promise<number> {
  let got = 0;
  let losses = 0;
  const skipped: T[] = [];
  for (let i = 0; i < candidates.length && got < want; ) {
    const answer = take(candidates[i++]);
    const result = answer instanceof Promise ? await answer : answer;
    if (result) got++;
    if (result !== false) continue;
    losses++;
    const stride = Math.floor(Math.random() * Math.min(2 ** losses, MAX_STRIDE));
    skipped.push(...candidates.slice(i, i + stride));
    i += stride;
  }
  for (const candidate of skipped) {
    if (got >= want) break;
    if (await take(candidate)) got++;
  }
  return got;
}

function probsOf(ranking: RankedQueue, position: number): Float32Array | undefined {
  if (!ranking.probs) return undefined;
  return ranking.probs.subarray(position * ranking.classes, (position + 1) * ranking.classes);
}

/** How many of the model's classes a suggestion lists. */
export const SUGGESTED_CLASSES = 3;

/**
 * The sample as a labeler sees it: `suggestions` are the project model's top classes with their probabilities (from
 * `probs`, the model's view at lease time or the current ranking; none without a model), and `tags` are what a
 * generic tagger saw at ingest, kept apart and never mapped onto the project's classes. Records written before tags
 * had their own field kept them as `suggestions`: those move to `tags`.
 */
export function modelView(project: Project, sample: Sample, probs?: ArrayLike<number>): Sample {
  const { suggestions: stored, tags, ...rest } = sample;
  const taggerTags = tags ?? (stored ?? []).map((t) => ({ classIndex: -1, name: t.name, probability: t.probability }));
  const suggestions = probs && probs.length === project.classes.length ? topClasses(project, probs) : undefined;
  return { ...rest, tags: taggerTags, ...(suggestions ? { suggestions } : {}) };
}

/** The project's classes by the model's probability, best first (the first SUGGESTED_CLASSES). */
export function topClasses(project: Project, probs: ArrayLike<number>, k = SUGGESTED_CLASSES): Suggestion[] {
  return Array.from({ length: project.classes.length }, (_, c) => c)
    .sort((a, b) => probs[b] - probs[a] || a - b)
    .slice(0, k)
    .map((c) => ({ classIndex: c, name: project.classes[c], probability: round4(probs[c]) }));
}

/** The probabilities of one sample in a ranking, if the ranking holds it with a model's view. */
export function rankedProbs(ranking: RankedQueue | undefined, sampleId: string): Float32Array | undefined {
  if (!ranking?.probs) return undefined;
  const at = ranking.sampleIds.indexOf(sampleId);
  return at < 0 ? undefined : probsOf(ranking, at);
}

/** A sample served earlier (with the model suggestion of its ranking, if any), told the current model's view instead. */
export function resuggest(project: Project, sample: Sample, probs: Float32Array): Sample {
  const lease = sample.lease && { ...sample.lease, probs: Array.from(probs, round4) };
  return modelView(project, { ...sample, ...(lease ? { lease } : {}) }, probs);
}

export const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
