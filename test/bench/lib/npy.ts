// The .npy reader moved to the CLI (`winnow import-features` reads the same files); the benchmarks reuse it.
export { parseNpy, readNpy, type NpyMatrix } from '../../../functions/cli/npy.js';
