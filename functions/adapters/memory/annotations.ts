// In-memory AnnotationStore: append-only, each (project, sample, version) claimed once.

import type { Annotation } from '../../domain/model.js';
import type { AnnotationStore, Page } from '../../domain/ports.js';
import { annotationSampleKey, annotationSortKey, compareKeys, servedSortKey } from '../keys.js';
import { PAGE_LIMITS, pageLimit } from '../paging.js';
import { plainCopy } from '../plain.js';
import { pageAfter, sortByKey } from './page.js';

const sortKeyOf = (a: Annotation) => annotationSortKey(a.sampleId, a.version);

export class MemoryAnnotationStore implements AnnotationStore {
  /** sampleKey -> version -> record */
  private readonly histories = new Map<string, Map<number, Annotation>>();

  async append(annotation: Annotation): Promise<{ created: boolean; stored: Annotation }> {
    const key = annotationSampleKey(annotation.projectId, annotation.sampleId);
    let history = this.histories.get(key);
    if (!history) {
      history = new Map();
      this.histories.set(key, history);
    }
    const taken = history.get(annotation.version);
    if (taken) return { created: false, stored: plainCopy(taken) };
    history.set(annotation.version, plainCopy(annotation));
    return { created: true, stored: plainCopy(annotation) };
  }

  async get(projectId: string, sampleId: string, version: number): Promise<Annotation | undefined> {
    const record = this.histories.get(annotationSampleKey(projectId, sampleId))?.get(version);
    return record && plainCopy(record);
  }

  async listForSample(projectId: string, sampleId: string): Promise<Annotation[]> {
    const history = this.histories.get(annotationSampleKey(projectId, sampleId));
    return [...(history?.values() ?? [])].sort((a, b) => a.version - b.version).map(plainCopy);
  }

  async newestServed(projectId: string, limit: number): Promise<Pick<Annotation, 'projectId' | 'sampleId' | 'version' | 'at' | 'live'>[]> {
    const served: [string, Annotation][] = [];
    for (const history of this.histories.values()) {
      for (const record of history.values()) {
        const key = record.projectId === projectId ? servedSortKey(record) : undefined;
        if (key !== undefined) served.push([key, record]);
      }
    }
    return served
      .sort(([a], [b]) => compareKeys(b, a))
      .slice(0, Math.max(0, limit))
      .map(([, record]) => plainCopy(record));
  }

  async listForProject(projectId: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<Annotation>> {
    const limit = pageLimit(opts.limit, PAGE_LIMITS.annotations);
    const all: Annotation[] = [];
    for (const history of this.histories.values()) {
      for (const record of history.values()) if (record.projectId === projectId) all.push(record);
    }
    const page = pageAfter(sortByKey(all, sortKeyOf), sortKeyOf, limit, opts.cursor);
    return { ...page, items: page.items.map(plainCopy) };
  }

  async delete(projectId: string, sampleId: string, version: number): Promise<void> {
    const key = annotationSampleKey(projectId, sampleId);
    const history = this.histories.get(key);
    history?.delete(version);
    if (history?.size === 0) this.histories.delete(key);
  }

  async deleteMany(projectId: string, records: { sampleId: string; version: number }[]): Promise<void> {
    for (const r of records) await this.delete(projectId, r.sampleId, r.version);
  }

  /** Every record of every project (a scan), for tests that check a deletion left nothing. */
  all(): Annotation[] {
    return [...this.histories.values()].flatMap((h) => [...h.values()].map(plainCopy));
  }
}
