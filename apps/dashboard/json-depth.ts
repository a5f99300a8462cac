import { badRequest } from './http-errors.js';

/** How deeply a body's arrays and objects may nest: far more than any request here needs. */
export const MAX_JSON_DEPTH = 32;

/**
 * Throws a 400 when `text` nests arrays or objects deeper than MAX_JSON_DEPTH, before it is
 * parsed: JSON.parse and the schema validator both recurse, so a body of 100,000 `[` inside the
 * size limit would overflow the stack (a RangeError, answered 500). One pass, no recursion;
 * brackets inside strings are skipped, escapes included. Malformed JSON is left to JSON.parse.
 */
export function refuseDeepJson(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > MAX_JSON_DEPTH) throw badRequest(`the body nests arrays or objects more than ${MAX_JSON_DEPTH} deep`);
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
}
