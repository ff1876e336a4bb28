// Peak resident memory of this process. `maxRSS` is in KiB and never decreases, so a bench that wants a figure
// per size runs each size in its own child process.

export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
