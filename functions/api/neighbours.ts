// The similar route's answer: the sample asked about and its look-alikes' heads, read now (a relabeled look-alike shows
// its new label, a deleted one is left out, a deleted or unknown sample asked about is a 404) in one BatchGetItem,
// with the look-alikes' images in a second one beside it, rather than a GetItem for the sample and one per image.
// A whole-image sample has its image's id, so its image record is asked for beside it; only a box sample's image
// (another id) is read after, in one more batch.

import { notFound } from '../domain/errors.js';
import type { ImageRecord } from '../domain/model.js';
import { presentSamples } from './present.js';
import type { ApiDeps } from './types.js';

export async function presentNeighbours(deps: ApiDeps, projectId: string, sampleId: string, neighbours: { sampleId: string; similarity: number }[]) {
  const store = deps.stores.samples;
  const ids = neighbours.map((n) => n.sampleId).filter((id) => id !== sampleId);
  const [heads, guessed] = await Promise.all([store.getSamples(projectId, [sampleId, ...ids]), ids.length > 0 ? store.getImages(projectId, ids) : []]);
  if (heads[0]?.sampleId !== sampleId) throw notFound(`sample "${sampleId}" in project "${projectId}"`);
  const samples = heads.slice(1);
  const images = new Map<string, ImageRecord>(guessed.map((image) => [image.imageId, image]));
  const asked = new Set(ids);
  const rest = [...new Set(samples.map((s) => s.imageId))].filter((id) => !images.has(id) && !asked.has(id));
  if (rest.length > 0) for (const image of await store.getImages(projectId, rest)) images.set(image.imageId, image);
  const similarity = new Map(neighbours.map((n) => [n.sampleId, n.similarity]));
  return (await presentSamples(deps, samples, images)).map((p) => ({ ...p, similarity: similarity.get(p.sample.sampleId) }));
}
