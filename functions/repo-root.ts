// The one place that knows where the repository is on disk, found from this file's location. A function, not a
// constant: bundled Lambda code never calls it (it is given WINNOW_MANIFESTS / WINNOW_MODELS instead), and there
// `import.meta.url` may not point into a checkout.

import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url)).replace(/[\\/]$/, '');
}
