// Look-alikes where no trainer process runs beside the API (the cloud's API function): the embeddings are read from
// the bucket's shards into this process's memory (once per warm container; later look-ups read only new shards) and
// every row is compared (domain/similar.ts, exact). Only as many samples as the memory allows: a project over the
// limit gets an answer that says so and what to change, never an out-of-memory crash of the function.
// One project's embeddings are kept at a time (a container serves many projects; each would hold its own matrix).

import { getProject } from '../domain/projects.js';
import { similarSamples, SimilarUnavailable, EXACT_UP_TO, type Neighbour } from '../domain/similar.js';
import type { ProjectTrainingState } from '../domain/retrain.js';
import type { Stores } from '../domain/ports.js';

/**
 * Bytes one sample costs in memory: fp16 rows as read plus the normalised fp32 copy (6 bytes a dimension), for
 * embedders up to 2048 dimensions, with the id and its row in a map.
 */
export const BYTES_PER_SAMPLE = 6 * 2048 + 200;
/** Share of the function's memory the embeddings may take (the rest: the runtime, the app, the request). */
const MEMORY_SHARE = 0.5;

export interface InMemorySimilarOptions {
  /** The stage's embedder, for projects that did not choose their own. */
  embedder: string;
  /** The function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE). */
  memoryMb: number;
}

/** Most samples a project may have for its look-alikes to be searched in this much memory. */
export function maxSamplesFor(memoryMb: number): number {
  return Math.min(EXACT_UP_TO, Math.floor((memoryMb * 2 ** 20 * MEMORY_SHARE) / BYTES_PER_SAMPLE));
}

export function inMemorySimilar(stores: Stores, opts: InMemorySimilarOptions) {
  const limit = maxSamplesFor(opts.memoryMb);
  let kept: { projectId: string; state: ProjectTrainingState } | undefined;
  return async (projectId: string, sampleId: string, k: number): Promise<Neighbour[]> => {
    const project = await getProject(stores, projectId);
    const { samples } = await stores.samples.counts(projectId);
    if (samples > limit) {
      throw new SimilarUnavailable(
        `Similar images: this project has ${samples.toLocaleString('en-US')} samples and the API function searches up to ${limit.toLocaleString('en-US')} ` +
          `with its ${opts.memoryMb} MB (raise api.memoryMb in cdk.json; the local stack searches any size).`,
      );
    }
    if (kept?.projectId !== projectId) kept = { projectId, state: {} };
    return similarSamples(stores.embeddings, projectId, kept.state, project.embedding?.model ?? opts.embedder, sampleId, k, { exact: true });
  };
}
