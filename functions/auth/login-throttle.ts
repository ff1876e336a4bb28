// Slows password guessing without handing attackers a lock-out button. Failures are counted per client (the
// connecting address) AND account together: after `maxFailures` failed sign-ins for one account from one client
// within `windowMs`, that client is refused for that account (even with the right password) until the window has
// passed, while the owner signing in from another client is not affected. A client that fails on many accounts
// (`maxClientFailures` in the window, names sprayed) is refused for every account. Counted whether or not the user
// exists, so a refusal reveals nothing about which names are real.

export interface LoginThrottleOptions {
  /** Failures of one client on one account before that pair is refused. @default 5 */
  maxFailures?: number;
  /** Failures of one client over all accounts before that client is refused. @default 50 */
  maxClientFailures?: number;
  /** @default 15 minutes */
  windowMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** One sign-in attempt: the normalized account name and the client it came from (its address). */
export interface LoginAttempt {
  account: string;
  /** The client's address; attempts with no known address share one client, 'unknown'. */
  client?: string;
}

interface Failures {
  count: number;
  firstAt: number;
}

// Bounds memory when someone sprays many names or addresses; the oldest entries are dropped first.
const MAX_TRACKED = 10_000;

const clientOf = (attempt: LoginAttempt) => attempt.client || 'unknown';
const pairKey = (attempt: LoginAttempt) => `pair\u0000${clientOf(attempt)}\u0000${attempt.account}`;
const clientKey = (attempt: LoginAttempt) => `client\u0000${clientOf(attempt)}`;

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  private readonly maxFailures: number;
  private readonly maxClientFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.maxClientFailures = options.maxClientFailures ?? 50;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until this client may try this account again, or 0 when it may try now. */
  retryAfterSeconds(attempt: LoginAttempt): number {
    return Math.max(this.wait(pairKey(attempt), this.maxFailures), this.wait(clientKey(attempt), this.maxClientFailures));
  }

  recordFailure(attempt: LoginAttempt): void {
    this.bump(pairKey(attempt));
    this.bump(clientKey(attempt));
  }

  /** A correct password clears this client's count for this account (not its count over all accounts). */
  recordSuccess(attempt: LoginAttempt): void {
    this.failures.delete(pairKey(attempt));
  }

  private wait(key: string, max: number): number {
    const entry = this.current(key);
    if (!entry || entry.count < max) return 0;
    return Math.max(1, Math.ceil((entry.firstAt + this.windowMs - this.now()) / 1000));
  }

  private bump(key: string): void {
    const entry = this.current(key);
    if (entry) entry.count += 1;
    else {
      if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(key, { count: 1, firstAt: this.now() });
    }
  }

  private current(key: string): Failures | undefined {
    const entry = this.failures.get(key);
    if (entry && this.now() - entry.firstAt >= this.windowMs) {
      this.failures.delete(key);
      return undefined;
    }
    return entry;
  }
}
