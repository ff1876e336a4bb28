// Slows password guessing: after `maxFailures` failed sign-ins for one user name within `windowMs`, that name
// is refused (even with the right password) until the window has passed. Counted per name whether or not the
// user exists, so the refusal reveals nothing about which names are real.

export interface LoginThrottleOptions {
  /** @default 5 */
  maxFailures?: number;
  /** @default 15 minutes */
  windowMs?: number;
  /** @default Date.now */
  now?: () => number;
}

interface Failures {
  count: number;
  firstAt: number;
}

// Bounds memory when someone sprays many names; the oldest entries are dropped first.
const MAX_TRACKED = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until `username` may try again, or 0 when it may try now. */
  retryAfterSeconds(username: string): number {
    const entry = this.current(username);
    if (!entry || entry.count < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((entry.firstAt + this.windowMs - this.now()) / 1000));
  }

  recordFailure(username: string): void {
    const entry = this.current(username);
    if (entry) entry.count += 1;
    else {
      if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(username, { count: 1, firstAt: this.now() });
    }
  }

  recordSuccess(username: string): void {
    this.failures.delete(username);
  }

  private current(username: string): Failures | undefined {
    const entry = this.failures.get(username);
    if (entry && this.now() - entry.firstAt >= this.windowMs) {
      this.failures.delete(username);
      return undefined;
    }
    return entry;
  }
}
