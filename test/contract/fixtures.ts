// Records for the storage contract tests, and the real photo they store as a blob.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Annotation, ImageRecord, LabelHead, Project, Sample } from '../../functions/domain/model.js';
import type { Clock, Stores } from '../../functions/domain/ports.js';
import { repoRoot } from '../../functions/repo-root.js';

/**
 * The stores' clock in a contract run: real time (S3 emulators check presigned URLs against their own), or as far off
 * as `offsetMs` says, e.g. to sign a URL in the past instead of waiting for it to expire.
 */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

/** What a contract run needs from one storage variant. */
export interface StoreTarget {
  /** Built with `clock`. */
  stores: Stores;
  clock: ShiftedClock;
  /** Follows a presigned URL: plain HTTP for S3, the fake's own resolver for `memory://` URLs. */
  fetchPresigned(url: string, init?: { method?: string; body?: Uint8Array; headers?: Record<string, string> }): Promise<Response>;
}

/** Each test works in its own project so the tables can be shared by the whole file. */
export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const SHARED_DIR = resolve(process.env.WINNOW_SHARED_DIR ?? resolve(repoRoot(), '../shared'));

export async function flowerJpeg(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(resolve(SHARED_DIR, 'datasets/tf_flowers_dev/daisy/100080576_f52e8ee070_n.jpg')));
}

const AT = '2025-03-01T10:00:00.000Z';

export function aProject(id: string, overrides: Partial<Project> = {}): Project {
  return {
    id,
    name: `Flowers ${id}`,
    classes: ['daisy', 'dandelion', 'roses'],
    taskType: 'single-label',
    confidenceLevels: [0, 0.5, 1],
    allowAmbiguous: true,
    strategy: 'upload-order',
    overlap: 1,
    createdAt: AT,
    createdBy: 'owner@example.com',
    version: 1,
    ...overrides,
  };
}

export function anImage(projectId: string, imageId: string, overrides: Partial<ImageRecord> = {}): ImageRecord {
  return {
    projectId,
    imageId,
    key: `uploads/${projectId}/${imageId}.jpg`,
    etag: 'e1',
    bytes: 1234,
    status: 'pending',
    order: `${AT}#${imageId}`,
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

/** An unlabeled image sample waiting in the queue at `order`. */
export function aSample(projectId: string, sampleId: string, order: string, overrides: Partial<Sample> = {}): Sample {
  return {
    projectId,
    sampleId,
    imageId: sampleId,
    kind: 'image',
    version: 0,
    labeledBy: [],
    order,
    queueKey: order,
    suggestions: [{ classIndex: 0, name: 'daisy', probability: 0.8 }],
    createdAt: AT,
    ...overrides,
  };
}

export function aLabel(labelerId: string, confidences = [1, 0, 0]): LabelHead {
  return { confidences, ambiguous: false, labelerId, at: AT };
}

export function anAnnotation(projectId: string, sampleId: string, version: number, overrides: Partial<Annotation> = {}): Annotation {
  return {
    projectId,
    sampleId,
    version,
    kind: 'label',
    labelerId: 'ana',
    confidences: [1, 0, 0],
    ambiguous: false,
    before: { labeledBy: [] },
    requestId: uniqueId('req'),
    at: AT,
    ...overrides,
  };
}
