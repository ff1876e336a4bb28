// The Lambda memory setting a measured peak RSS implies: peak plus headroom, rounded up to a 128 MB step, within
// Lambda's 128-10240 MB range. Lambda also scales CPU with memory (one full vCPU at 1769 MB).

export const LAMBDA_MIN_MB = 128;
export const LAMBDA_MAX_MB = 10240;
export const LAMBDA_STEP_MB = 128;
export const MB_PER_VCPU = 1769;

export function lambdaMemoryMb(peakRssMiB: number, headroom = 0.25): number {
  // Lambda's "MB" are MiB (1024 * 1024 bytes), like maxRSS's KiB / 1024.
  const wanted = peakRssMiB * (1 + headroom);
  const stepped = Math.ceil(wanted / LAMBDA_STEP_MB) * LAMBDA_STEP_MB;
  return Math.min(LAMBDA_MAX_MB, Math.max(LAMBDA_MIN_MB, stepped));
}

/** Memory setting that gives Lambda the same number of vCPUs as the benchmark machine had. */
export function lambdaMemoryForCpus(cpus: number): number {
  return Math.min(LAMBDA_MAX_MB, Math.ceil((cpus * MB_PER_VCPU) / LAMBDA_STEP_MB) * LAMBDA_STEP_MB);
}
