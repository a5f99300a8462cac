import { badRequest } from './http-errors.js';

/**
 * A whole number from a query string or a form (always text there), within its range: a value
 * out of range is refused with 400 and the range, never clamped to something the client did
 * not ask for.
 */
export function wholeNumberInRange(name: string, raw: unknown, { min, max, fallback }: { min: number; max: number; fallback: number }): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' && /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    throw badRequest(`${name} must be a whole number from ${min} to ${max} (got "${String(raw).slice(0, 20)}")`);
  }
  return value;
}
