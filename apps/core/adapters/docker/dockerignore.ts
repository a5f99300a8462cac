import { posix } from 'node:path';

/**
 * A `.dockerignore` read as the Docker CLI reads it, so that a context sent through the Engine
 * API holds what `docker build` would send: https://docs.docker.com/build/concepts/context/#dockerignore-files
 * The rules are moby/patternmatcher's (ignorefile.ReadAll, Pattern.compile, MatchesOrParentMatches)
 * and the CLI's (build.TrimBuildFilesFromExcludes), ported:
 * - `#` starts a comment only in the first column; lines are trimmed; empty lines are nothing.
 * - each pattern is cleaned as Go's filepath.Clean does, a leading `/` dropped (so `./a/` is `a`).
 * - Go filepath.Match syntax (`*` and `?` never cross a `/`, `[...]`, `\` escapes), and `**`
 *   for any number of directories, none included.
 * - a pattern that matches a parent directory matches what is inside it.
 * - the last pattern that matches decides; `!` makes it an exception.
 */
export interface IgnoreRule {
  /** The cleaned pattern, without its `!`. */
  pattern: string;
  exception: boolean;
  regex: RegExp;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const exception = pattern.startsWith('!');
    if (exception) pattern = pattern.slice(1).trim();
    if (pattern === '') throw new Error('.dockerignore: "!" alone is not a pattern');
    pattern = posix.normalize(pattern).replace(/\/+$/, '');
    if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    if (pattern === '' || pattern === '.') pattern = '.';
    rules.push({ pattern, exception, regex: compilePattern(pattern) });
  }
  return rules;
}

/** The rules the CLI adds so that the Dockerfile and the `.dockerignore` are always sent. */
export function keepBuildFiles(rules: IgnoreRule[], dockerfile: string): IgnoreRule[] {
  const kept = [...rules];
  for (const path of ['.dockerignore', posix.normalize(dockerfile)]) {
    if (isIgnored(kept, path)) kept.push({ pattern: path, exception: true, regex: compilePattern(path) });
  }
  return kept;
}

/** Whether a path (relative to the context, `/`-separated) is left out of the context. */
export function isIgnored(rules: IgnoreRule[], path: string): boolean {
  const parents = path.split('/').slice(0, -1);
  let ignored = false;
  for (const rule of rules) {
    // As moby does: a rule that cannot change the answer is not evaluated.
    if (rule.exception !== ignored) continue;
    let matched = rule.regex.test(path);
    for (let i = 1; !matched && i <= parents.length; i++) matched = rule.regex.test(parents.slice(0, i).join('/'));
    if (matched) ignored = !rule.exception;
  }
  return ignored;
}

/**
 * Whether an ignored directory must still be walked: an exception names something under it
 * (the CLI's test, a prefix of the exception's text, so `!dir/*.go` keeps `dir` walked).
 */
export function hasExceptionUnder(rules: IgnoreRule[], dir: string): boolean {
  return rules.some((rule) => rule.exception && `${rule.pattern}/`.startsWith(`${dir}/`));
}

/**
 * Go filepath.Match with `**`, as a regular expression: moby/patternmatcher's Pattern.compile,
 * with its two shortcuts folded in (a leading `**` before plain text is any suffix, so `**.go`
 * matches `a.go`; a trailing `**` is any prefix).
 */
function compilePattern(pattern: string): RegExp {
  const literalAfterLeadingStars = pattern.startsWith('**') && !/[*?[\]\\]/.test(pattern.slice(2));
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      i++;
      const slash = pattern[i + 1] === '/';
      if (slash) i++;
      if (i + 1 >= pattern.length) source += '.*';
      else source += i === 1 && !slash && literalAfterLeadingStars ? '.*' : '(.*/)?';
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      // A class goes to the regular expression as written: Go's syntax (`^` negates, `a-z`).
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new Error(`.dockerignore: "[" without "]" in ${pattern}`);
      source += pattern.slice(i, end + 1);
      i = end;
    }
    else if (ch === '\\' && i + 1 < pattern.length) source += escapeRegex(pattern[++i]!);
    else source += escapeRegex(ch);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegex(ch: string): string {
  return /[.+^${}()|[\]\\*?/]/.test(ch) ? `\\${ch}` : ch;
}
