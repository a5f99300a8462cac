import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';

/** Wrong credentials one client address may present per window before it is refused. */
export const FAILED_CREDENTIALS_ALLOWED = 10;
/** The window, and how long an address that went past it is refused (README: "Access"). */
export const FAILURE_WINDOW_SECONDS = 60;

/**
 * Wrong credentials counted per client address, with rate-limiter-flexible's login-protection
 * pattern: an address is asked about before its credential is checked, and a point is consumed
 * only after a check failed. Requests that carry the right credential, or none, cost nothing, so
 * one address's guessing never holds up another address or a client that made no mistake. One
 * counter serves every path that checks a credential (bearer, cookie, sign-in, and any added
 * later), so none of them is a way around the others.
 */
export class CredentialFailures {
  private readonly limiter: RateLimiterMemory;

  constructor(
    readonly allowed = FAILED_CREDENTIALS_ALLOWED,
    readonly windowSeconds = FAILURE_WINDOW_SECONDS,
  ) {
    this.limiter = new RateLimiterMemory({ points: allowed, duration: windowSeconds, blockDuration: windowSeconds });
  }

  /** Milliseconds until `address` may try again, or null when it is not refused. */
  async refusedFor(address: string): Promise<number | null> {
    const state = await this.limiter.get(address);
    return state !== null && state.consumedPoints > this.allowed ? Math.max(state.msBeforeNext, 1) : null;
  }

  /** Counts one failed check; the milliseconds until it may try again once it went past the limit. */
  async failed(address: string): Promise<number | null> {
    try {
      await this.limiter.consume(address);
      return null;
    } catch (rejection) {
      // The limiter rejects with its state when the points are spent (its only rejection for memory).
      if (rejection instanceof Error) throw rejection;
      return Math.max((rejection as RateLimiterRes).msBeforeNext, 1);
    }
  }
}

/** "try again in 42 s" for a refusal's remaining milliseconds. */
export function tryAgainIn(ms: number): string {
  return `try again in ${Math.ceil(ms / 1000)} s`;
}
