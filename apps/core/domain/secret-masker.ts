/** What a secret is replaced with, wherever it would be stored or served. */
export const SECRET_MASK = '***';
/**
 * Shorter secrets are not masked: replacing every "abc" in every log would mangle ordinary text
 * and still tell a reader which three letters the secret is. The stack says so at start.
 */
export const MIN_MASKED_SECRET_LENGTH = 4;
/** A fragment of a secret at a cut edge (a tail's start, a live log's end) shorter than this is left. */
const MIN_EDGE_FRAGMENT = 3;

/** A secret to mask, with the name a start-up message may give it (never its value). */
export interface NamedSecret {
  name: string;
  value: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces known secret values with `***` in text that is about to be stored or served: a kind's
 * `secretEnv` values and the store's password. Longer secrets are tried first, so one secret
 * inside another is masked whole. Text is masked before its first write, never scrubbed after,
 * since SQLite's WAL and free pages keep deleted bytes.
 */
export class SecretMasker {
  readonly secrets: readonly string[];
  /** Secrets too short to mask usefully, by name: to be reported at start. */
  readonly tooShort: readonly string[];
  private readonly pattern: RegExp | null;

  constructor(secrets: Iterable<NamedSecret>) {
    const kept = new Set<string>();
    const tooShort: string[] = [];
    for (const { name, value } of secrets) {
      if (value.length === 0) continue;
      if (value.length < MIN_MASKED_SECRET_LENGTH) tooShort.push(name);
      else kept.add(value);
    }
    this.secrets = [...kept].sort((a, b) => b.length - a.length);
    this.tooShort = tooShort;
    this.pattern = this.secrets.length > 0 ? new RegExp(this.secrets.map(escapeRegExp).join('|'), 'g') : null;
  }

  get longest(): number {
    return this.secrets[0]?.length ?? 0;
  }

  /**
   * Masks every whole secret in `text`. `cutStart` says the text begins somewhere inside a longer
   * output (a tail), so it may begin with the end of a secret; `cutEnd` that more may follow (a
   * live log), so it may end with the start of one: such a fragment at a cut edge is masked too.
   */
  mask(text: string, { cutStart = false, cutEnd = false }: { cutStart?: boolean; cutEnd?: boolean } = {}): string {
    if (!this.pattern) return text;
    let head = '';
    let body = text;
    let tail = '';
    if (cutStart) {
      const n = this.longestEdge(body, (secret, k) => body.startsWith(secret.slice(secret.length - k)));
      if (n > 0) [head, body] = [SECRET_MASK, body.slice(n)];
    }
    if (cutEnd) {
      const n = this.longestEdge(body, (secret, k) => body.endsWith(secret.slice(0, k)), MIN_EDGE_FRAGMENT);
      if (n > 0) [body, tail] = [body.slice(0, body.length - n), SECRET_MASK];
    }
    return head + body.replace(this.pattern, SECRET_MASK) + tail;
  }

  /** The longest k (below a secret's length, at least `least`) for which `matches(secret, k)` holds. */
  private longestEdge(text: string, matches: (secret: string, k: number) => boolean, least = 1): number {
    let best = 0;
    for (const secret of this.secrets) {
      for (let k = Math.min(secret.length - 1, text.length); k > best && k >= least; k--) {
        if (matches(secret, k)) {
          best = k;
          break;
        }
      }
    }
    return best;
  }

  /** Every whole secret in `text`, as `mask` finds them. */
  matches(text: string): IterableIterator<RegExpMatchArray & { index: number }> {
    return (this.pattern ? text.matchAll(this.pattern) : [][Symbol.iterator]()) as IterableIterator<RegExpMatchArray & { index: number }>;
  }

  /** A masker for text that arrives in chunks (see StreamMasker). */
  stream(): StreamMasker {
    return new StreamMasker(this);
  }
}

/**
 * Masks a stream whose chunks may split a secret: each `push` returns what can be written now,
 * holding back an end that could still become a secret with the next chunk; `end` returns the
 * rest. What it returns, joined, is `mask` of the whole stream.
 */
export class StreamMasker {
  private pending = '';

  constructor(private readonly masker: SecretMasker) {}

  push(chunk: string): string {
    const text = this.pending + chunk;
    const keep = this.heldBack(text, text.length - this.lastMatchEnd(text));
    this.pending = text.slice(text.length - keep);
    return this.masker.mask(text.slice(0, text.length - keep));
  }

  private lastMatchEnd(text: string): number {
    let end = 0;
    for (const match of this.masker.matches(text)) end = match.index + match[0].length;
    return end;
  }

  end(): string {
    const rest = this.masker.mask(this.pending);
    this.pending = '';
    return rest;
  }

  /**
   * How much of the end to hold back: from the start of the last secret that could still be
   * completed by what follows (a proper prefix of a secret ending the text), but never into a
   * whole secret already there, which is masked now.
   */
  private heldBack(text: string, limit: number): number {
    let keep = 0;
    for (const secret of this.masker.secrets) {
      for (let k = Math.min(secret.length - 1, limit); k > keep; k--) {
        if (text.endsWith(secret.slice(0, k))) {
          keep = k;
          break;
        }
      }
    }
    return keep;
  }
}
