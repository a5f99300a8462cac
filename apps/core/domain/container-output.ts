/**
 * What a container that knows nothing of the store tells through its output (ACI's logs API
 * returns stdout and stderr as one stream, so both count): its progress as lines
 * `progress 0.42`, its result as a last line `{"output": …}` (or else its last line), and,
 * when it fails, the end of its log as the reason.
 */

const PROGRESS_LINE = /^progress\s+(0(?:\.\d+)?|1(?:\.0+)?|\.\d+)\s*$/;
// A result is shown on a card and kept in the store: long enough for a summary, never a dump.
const MAX_OUTPUT_CHARACTERS = 4096;
// A failure's reason is read on a card: the last few lines of the program's own story.
const REASON_LINES = 3;

function lines(logs: string): string[] {
  return logs.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}

function cap(text: string): string {
  return text.length > MAX_OUTPUT_CHARACTERS ? `${text.slice(0, MAX_OUTPUT_CHARACTERS)}…` : text;
}

/** The last `progress <0..1>` line's fraction, or null when there is none. */
export function progressFromLogs(logs: string): number | null {
  for (const line of lines(logs).reverse()) {
    const match = PROGRESS_LINE.exec(line);
    if (match) return Number(match[1]);
  }
  return null;
}

/** The value of the last line that is a JSON object with an `output`; undefined without one. */
function lastOutputValue(all: string[]): { value: unknown } | undefined {
  for (const line of [...all].reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (typeof parsed === 'object' && parsed !== null && 'output' in parsed) return { value: (parsed as { output: unknown }).output };
    } catch {
      // not JSON: an ordinary line
    }
  }
  return undefined;
}

/** The result: the last line that is a JSON object with an `output`, or else the last line. */
export function outputFromLogs(logs: string): string {
  const all = lines(logs);
  const found = lastOutputValue(all);
  if (found) return cap(typeof found.value === 'string' ? found.value : JSON.stringify(found.value));
  return cap(all.filter((line) => !PROGRESS_LINE.test(line)).pop() ?? '');
}

/** A line of the protocol with the platform (`progress …`, the `{"output": …}` result), not of the program's story. */
function isProtocolLine(line: string): boolean {
  if (PROGRESS_LINE.test(line)) return true;
  if (!line.startsWith('{')) return false;
  try {
    const parsed = JSON.parse(line) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'output' in parsed;
  } catch {
    return false;
  }
}

/**
 * Why a program failed, in its own words: the last three lines of `errors` (its error output,
 * where the runtime keeps it apart from the rest) when it wrote any, or else of its log; the
 * protocol lines left out. Empty when neither says anything.
 */
export function failureTail(logs: string, errors: string | null = null): string {
  const story = (text: string) => lines(text).filter((line) => !isProtocolLine(line));
  const said = errors === null ? [] : story(errors);
  return cap((said.length > 0 ? said : story(logs)).slice(-REASON_LINES).join(' ⏎ '));
}

/**
 * The result as JSON text when the last such line gave one (`{"output": <JSON value>}`), for
 * the API to return as JSON; null without one, or when it is too long to keep whole (a cut
 * JSON text is no JSON: the capped text in `output` stands instead).
 */
export function outputJsonFromLogs(logs: string): string | null {
  const found = lastOutputValue(lines(logs));
  if (!found) return null;
  const json = JSON.stringify(found.value);
  return json.length > MAX_OUTPUT_CHARACTERS ? null : json;
}
