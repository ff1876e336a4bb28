// Class-name files (a JSON array of strings, index = model output index), read once per process.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WinnowError } from '../domain/errors.js';

const cache = new Map<string, Promise<string[]>>();

export function loadLabels(modelDir: string, file: string, expectedCount: number): Promise<string[]> {
  const labelsPath = path.join(modelDir, file);
  let labels = cache.get(labelsPath);
  if (!labels) {
    labels = readFile(labelsPath, 'utf8').then((text) => {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed) || parsed.length !== expectedCount || !parsed.every((l) => typeof l === 'string')) {
        throw new WinnowError('unavailable', `labels file ${labelsPath} must be a JSON array of ${expectedCount} class names`);
      }
      return parsed as string[];
    });
    labels.catch(() => cache.delete(labelsPath));
    cache.set(labelsPath, labels);
  }
  return labels;
}
