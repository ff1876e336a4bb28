// The similar route's answer: the look-alikes' sample heads (read now: a relabeled one shows its new label, a deleted
// one is left out) with their images, read in two BatchGetItems side by side rather than one GetItem per image. A
// whole-image sample has its image's id, so its image record is asked for beside it; only a box sample's image (another
// id) is read after, in one more batch.

import type { ImageRecord } from '../domain/model.js';
import { presentSamples } from './present.js';
import type { ApiDeps } from './types.js';

export async function presentNeighbours(deps: ApiDeps, projectId: string, neighbours: { sampleId: string; similarity: number }[]) {
  const store = deps.stores.samples;
  const ids = neighbours.map((n) => n.sampleId);
  const [samples, guessed] = await Promise.all([store.getSamples(projectId, ids), store.getImages(projectId, ids)]);
  const images = new Map<string, ImageRecord>(guessed.map((image) => [image.imageId, image]));
  const asked = new Set(ids);
  const rest = [...new Set(samples.map((s) => s.imageId))].filter((id) => !images.has(id) && !asked.has(id));
  if (rest.length > 0) for (const image of await store.getImages(projectId, rest)) images.set(image.imageId, image);
  const similarity = new Map(neighbours.map((n) => [n.sampleId, n.similarity]));
  return (await presentSamples(deps, samples, images)).map((p) => ({ ...p, similarity: similarity.get(p.sample.sampleId) }));
}
