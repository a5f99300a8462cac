import { SettingsError } from '../domain/errors.js';

type Env = Record<string, string | undefined>;

/**
 * Reads settings from the environment once, at start. Every bad value is collected and
 * reported together by `done()`, each with its name and the value given.
 */
export class SettingsReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const raw = this.env[name]?.trim();
    return raw ? raw : fallback;
  }

  requiredString(name: string): string {
    const raw = this.env[name]?.trim();
    if (!raw) this.problems.push(`${name} is required`);
    return raw ?? '';
  }

  number(name: string, fallback: number, range: { min?: number; max?: number; integer?: boolean } = {}): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    const { min = -Infinity, max = Infinity, integer = false } = range;
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      const kind = integer ? 'a whole number' : 'a number';
      const bounds = [min > -Infinity ? `at least ${min}` : '', max < Infinity ? `at most ${max}` : '']
        .filter(Boolean)
        .join(' and ');
      this.problems.push(`${name} must be ${kind}${bounds ? ` ${bounds}` : ''} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  integer(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    return this.number(name, fallback, { ...range, integer: true });
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${choices.join(', ')} (got "${raw}")`);
    return fallback;
  }

  /** A comma-separated list, each item checked by `valid` (described as `what` when it is not). */
  list(name: string, fallback: string[], valid: (item: string) => boolean, what: string): string[] {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
    const bad = items.filter((item) => !valid(item));
    if (bad.length > 0) this.problems.push(`${name} must be a comma-separated list of ${what} (got ${bad.map((b) => `"${b}"`).join(', ')})`);
    return bad.length > 0 ? fallback : items;
  }

  /** Records a problem that no single reader above can see (one setting depending on another). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one SettingsError naming every bad setting. */
  done(): void {
    if (this.problems.length > 0) throw new SettingsError(`invalid settings: ${this.problems.join('; ')}`);
  }
}
