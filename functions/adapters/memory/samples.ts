// In-memory SampleStore: images and samples per project, with the same lease and version rules as DynamoDB.

import { ConditionFailed } from '../../domain/errors.js';
import type { BoxLabel, ImageRecord, ImageStatus, LabelHead, Lease, Sample } from '../../domain/model.js';
import type { HeadAdvance, Page, SampleCounts, SampleStore } from '../../domain/ports.js';
import { advancedHead } from '../../domain/sample-advance.js';
import { compareKeys } from '../keys.js';
import { PAGE_LIMITS, pageLimit } from '../paging.js';
import { plainCopy } from '../plain.js';
import { countFrom, toSampleCounts } from '../sample-counts.js';
import { pageAfter, sortByKey } from './page.js';

interface ProjectShelf {
  images: Map<string, ImageRecord>;
  samples: Map<string, Sample>;
}

export class MemorySampleStore implements SampleStore {
  private readonly shelves = new Map<string, ProjectShelf>();

  private shelf(projectId: string): ProjectShelf {
    let shelf = this.shelves.get(projectId);
    if (!shelf) {
      shelf = { images: new Map(), samples: new Map() };
      this.shelves.set(projectId, shelf);
    }
    return shelf;
  }

  async putImageIfAbsent(image: ImageRecord): Promise<{ image: ImageRecord; created: boolean }> {
    const images = this.shelf(image.projectId).images;
    const existing = images.get(image.imageId);
    if (existing) return { image: plainCopy(existing), created: false };
    images.set(image.imageId, plainCopy(image));
    return { image: plainCopy(image), created: true };
  }

  async putImage(image: ImageRecord): Promise<void> {
    this.shelf(image.projectId).images.set(image.imageId, plainCopy(image));
  }

  async getImage(projectId: string, imageId: string): Promise<ImageRecord | undefined> {
    const image = this.shelves.get(projectId)?.images.get(imageId);
    return image && plainCopy(image);
  }

  async getImages(projectId: string, imageIds: string[]): Promise<ImageRecord[]> {
    const images = this.shelves.get(projectId)?.images;
    return imageIds.flatMap((id) => {
      const image = images?.get(id);
      return image ? [plainCopy(image)] : [];
    });
  }

  async listImages(projectId: string, opts: { cursor?: string; limit?: number; status?: ImageStatus } = {}): Promise<Page<ImageRecord>> {
    const limit = pageLimit(opts.limit, PAGE_LIMITS.images);
    const images = [...(this.shelves.get(projectId)?.images.values() ?? [])].filter((i) => !opts.status || i.status === opts.status);
    const sorted = sortByKey(images, (i) => i.imageId);
    const page = pageAfter(sorted, (i) => i.imageId, limit, opts.cursor);
    return { ...page, items: page.items.map(plainCopy) };
  }

  async putSamplesIfAbsent(samples: Sample[]): Promise<number> {
    let created = 0;
    for (const sample of samples) {
      const stored = this.shelf(sample.projectId).samples;
      if (stored.has(sample.sampleId)) continue;
      stored.set(sample.sampleId, plainCopy(sample));
      created++;
    }
    return created;
  }

  async putIngested(_previous: ImageRecord, ready: ImageRecord, samples: Sample[]): Promise<void> {
    const shelf = this.shelf(ready.projectId);
    for (const sample of samples) shelf.samples.set(sample.sampleId, plainCopy(sample));
    shelf.images.set(ready.imageId, plainCopy(ready));
  }

  async getSample(projectId: string, sampleId: string): Promise<Sample | undefined> {
    const sample = this.shelves.get(projectId)?.samples.get(sampleId);
    return sample && plainCopy(sample);
  }

  async getSamples(projectId: string, sampleIds: string[]): Promise<Sample[]> {
    const shelf = this.shelves.get(projectId)?.samples;
    return sampleIds.flatMap((id) => {
      const sample = shelf?.get(id);
      return sample ? [plainCopy(sample)] : [];
    });
  }

  async listSamples(projectId: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<Sample>> {
    const limit = pageLimit(opts.limit, PAGE_LIMITS.samples);
    const sorted = sortByKey(this.shelves.get(projectId)?.samples.values() ?? [], (s) => s.sampleId);
    const page = pageAfter(sorted, (s) => s.sampleId, limit, opts.cursor);
    return { ...page, items: page.items.map(plainCopy) };
  }

  async queue(projectId: string, opts: { after?: string; limit?: number } = {}): Promise<Sample[]> {
    const limit = pageLimit(opts.limit, PAGE_LIMITS.queue);
    const { after } = opts;
    const waiting = [...(this.shelves.get(projectId)?.samples.values() ?? [])].filter(
      (s) => s.queueKey !== undefined && (after === undefined || compareKeys(s.queueKey, after) > 0),
    );
    return sortByKey(waiting, (s) => s.queueKey as string)
      .slice(0, limit)
      .map(plainCopy);
  }

  async lease(projectId: string, sampleId: string, lease: Lease, now: number): Promise<Sample | undefined> {
    const sample = this.shelves.get(projectId)?.samples.get(sampleId);
    if (!sample || sample.queueKey === undefined) return undefined;
    const held = sample.lease;
    if (held && held.until >= now && held.labelerId !== lease.labelerId) return undefined;
    sample.lease = plainCopy(lease);
    return plainCopy(sample);
  }

  async advance(
    projectId: string,
    sampleId: string,
    expectedVersion: number,
    next: HeadAdvance,
  ): Promise<Sample> {
    const stored = this.shelves.get(projectId)?.samples;
    const sample = stored?.get(sampleId);
    if (!stored || !sample || sample.version !== expectedVersion) {
      throw new ConditionFailed(`sample ${sampleId} is not at version ${expectedVersion}`);
    }
    const advanced = plainCopy(advancedHead(sample, expectedVersion, next));
    stored.set(sampleId, advanced);
    return plainCopy(advanced);
  }

  async setProposals(projectId: string, sampleId: string, proposals: BoxLabel[]): Promise<Sample | undefined> {
    const sample = this.shelves.get(projectId)?.samples.get(sampleId);
    if (!sample) return undefined;
    sample.proposals = plainCopy(proposals);
    return plainCopy(sample);
  }

  async deleteMany(projectId: string, items: { imageIds?: string[]; sampleIds?: string[] }): Promise<void> {
    for (const id of items.sampleIds ?? []) this.shelves.get(projectId)?.samples.delete(id);
    for (const id of items.imageIds ?? []) this.shelves.get(projectId)?.images.delete(id);
    this.dropEmpty(projectId);
  }

  async listSamplesOfImage(projectId: string, imageId: string): Promise<Sample[]> {
    const found = [...(this.shelves.get(projectId)?.samples.values() ?? [])].filter((s) => s.imageId === imageId && s.sampleId.startsWith(imageId));
    return sortByKey(found, (s) => s.sampleId).map(plainCopy);
  }

  async deleteImage(projectId: string, imageId: string): Promise<void> {
    this.shelves.get(projectId)?.images.delete(imageId);
    this.dropEmpty(projectId);
  }

  async deleteSample(projectId: string, sampleId: string): Promise<void> {
    this.shelves.get(projectId)?.samples.delete(sampleId);
    this.dropEmpty(projectId);
  }

  /** Counted from the records at each call: the fake has no writer that could die between a write and its count. */
  async counts(projectId: string): Promise<SampleCounts> {
    const shelf = this.shelves.get(projectId);
    return toSampleCounts(countFrom(shelf?.samples.values() ?? [], shelf?.images.values() ?? []));
  }

  recount(projectId: string): Promise<SampleCounts> {
    return this.counts(projectId);
  }

  /** Projects with records, for tests that check a deletion left nothing (a scan of the table). */
  projectIds(): string[] {
    return [...this.shelves.keys()];
  }

  private dropEmpty(projectId: string): void {
    const shelf = this.shelves.get(projectId);
    if (shelf && shelf.images.size === 0 && shelf.samples.size === 0) this.shelves.delete(projectId);
  }
}
