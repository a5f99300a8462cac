export interface TokenBucketOptions {
  /** Tokens it holds when full: the largest burst. */
  size: number;
  refillPerSecond: number;
}

/** A token bucket, as ARM throttles with: a request takes a token, or is told how long to wait for one. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = options.size;
    this.updatedAt = now();
  }

  /** Takes a token and returns 0, or takes none and returns the milliseconds until one is there. */
  take(): number {
    const now = this.now();
    this.tokens = Math.min(this.options.size, this.tokens + ((now - this.updatedAt) / 1000) * this.options.refillPerSecond);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.options.refillPerSecond) * 1000);
  }
}
