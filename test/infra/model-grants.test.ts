// Bucket permissions for bring-your-own models and the trainer's saved classifiers (issue 18 follow-ups), with cdk-nag
// registered as in `infra/app.ts` (synthesis throws on any unacknowledged finding):
// - ingest reads registered models (`models/*`) to use a project's detector or embedder, and writes none;
// - the trainer saves the model each ranking was made with (`classifiers/*`), which the API reads for the classifier
//   export and deletes with its project; the API also handles model uploads, registrations and re-embed job records.

import { describe, expect, it } from 'vitest';
import { classifierKey } from '../../functions/domain/classifier-store.js';
import { MODEL_LAYOUT } from '../../functions/domain/models.js';
import { allows } from './support/iam.js';
import { synthOnce } from './support/synth.js';

const s = synthOnce({ stage: 'dev', nag: true });
const { roleOf, bucket } = s;

/** The top folder of a key as the grant's resource ends: `/models/*`. */
const folderOf = (key: string) => `/${key.split('/')[0]}/*`;
const MODELS = folderOf(MODEL_LAYOUT.file('0'.repeat(64)));
const CLASSIFIERS = folderOf(classifierKey('p'));

describe('ingest and registered models', () => {
  const may = (action: string, parts: string[]) => allows(s.resources, roleOf(s.stack.ingest.fn), action, parts);
  it('may read registered model files and registrations', () => expect(may('s3:GetObject', [bucket(), MODELS])).toBe(true));
  it('may not write or delete them', () => {
    expect(may('s3:PutObject', [bucket(), MODELS])).toBe(false);
    expect(may('s3:DeleteObject', [bucket(), MODELS])).toBe(false);
  });
});

describe("the trainer's saved classifiers", () => {
  const trainer = (action: string) => allows(s.resources, roleOf(s.stack.trainer.fn), action, [bucket(), CLASSIFIERS]);
  const api = (action: string) => allows(s.resources, roleOf(s.stack.api.fn), action, [bucket(), CLASSIFIERS]);
  const exporter = (action: string) => allows(s.resources, roleOf(s.stack.exports.fn), action, [bucket(), CLASSIFIERS]);
  it('the trainer may save them', () => expect(trainer('s3:PutObject')).toBe(true));
  it('the API may read them (classifier export), not write or delete them', () => {
    expect(api('s3:GetObject')).toBe(true);
    expect(api('s3:DeleteObject')).toBe(false);
    expect(api('s3:PutObject')).toBe(false);
  });
  it('the export function deletes them with their project (deletion jobs)', () => expect(exporter('s3:DeleteObject')).toBe(true));
});

describe('the API and registered models', () => {
  const may = (action: string) => allows(s.resources, roleOf(s.stack.api.fn), action, [bucket(), MODELS]);
  it('may presign uploads, store files and registrations, read re-embed jobs and delete them', () => {
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']) expect(may(action), action).toBe(true);
  });
});
