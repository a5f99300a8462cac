import { describe, expect, it } from 'vitest';
import { hasExceptionUnder, isIgnored, keepBuildFiles, parseDockerignore } from '../../apps/core/adapters/docker/dockerignore.js';

// Docker's rules (https://docs.docker.com/build/concepts/context/#dockerignore-files), with
// cases from moby/patternmatcher's own tests where they apply.
const ignored = (dockerignore: string, paths: string[]) => {
  const rules = parseDockerignore(dockerignore);
  return paths.filter((path) => isIgnored(rules, path));
};

describe('.dockerignore', () => {
  it('`*` and `?` stay within a directory; `**` crosses any number of them, none included', () => {
    const paths = ['README.md', 'docs/a.md', 'docs/deep/b.md', 'abc', 'a/c'];
    expect(ignored('*.md', paths)).toEqual(['README.md']);
    expect(ignored('**/*.md', paths)).toEqual(['README.md', 'docs/a.md', 'docs/deep/b.md']);
    expect(ignored('docs/**/*.md', paths)).toEqual(['docs/a.md', 'docs/deep/b.md']);
    expect(ignored('a?c', paths)).toEqual(['abc']);
    expect(ignored('**.md', paths)).toEqual(['README.md', 'docs/a.md', 'docs/deep/b.md']);
  });

  it('a pattern that names a directory leaves out all that is inside it', () => {
    expect(ignored('docs', ['docs', 'docs/a.md', 'docs/deep/b.md', 'docsx', 'x/docs'])).toEqual(['docs', 'docs/a.md', 'docs/deep/b.md']);
    expect(ignored('foo/**', ['foo', 'foo/x', 'foo/x/y'])).toEqual(['foo/x', 'foo/x/y']);
  });

  it('a leading `/` or `./`, a trailing `/` and `..` are cleaned away', () => {
    const paths = ['dist', 'dist/a.js', 'src/dist'];
    for (const pattern of ['/dist', './dist/', 'dist/', 'src/../dist', '  dist  ']) {
      expect(ignored(pattern, paths), pattern).toEqual(['dist', 'dist/a.js']);
    }
  });

  it('`!` makes an exception, and the last pattern that matches decides', () => {
    const paths = ['README.md', 'CHANGES.md'];
    expect(ignored('*.md\n!README.md', paths)).toEqual(['CHANGES.md']);
    expect(ignored('!README.md\n*.md', paths)).toEqual(['README.md', 'CHANGES.md']);
    expect(ignored('*.md\n!README.md\nREADME*', paths)).toEqual(['README.md', 'CHANGES.md']);
    expect(ignored('dir\n!dir/keep.txt', ['dir/keep.txt', 'dir/other.txt', 'dir/sub/keep.txt'])).toEqual(['dir/other.txt', 'dir/sub/keep.txt']);
  });

  it('an ignored directory is walked only when an exception names something inside it', () => {
    const rules = parseDockerignore('dir\nother\n!dir/keep.txt\n!elsewhere/*.go');
    expect(hasExceptionUnder(rules, 'dir')).toBe(true);
    expect(hasExceptionUnder(rules, 'other')).toBe(false);
    expect(hasExceptionUnder(rules, 'di')).toBe(false);
    expect(hasExceptionUnder(rules, 'elsewhere')).toBe(true);
  });

  it('`#` starts a comment only in the first column; blank lines and a BOM are nothing', () => {
    expect(ignored('\uFEFF# a.txt\n\n   \n #b.txt\n', ['a.txt', '#b.txt', '# a.txt'])).toEqual(['#b.txt']);
  });

  it('character classes and `\\` escapes are Go filepath.Match syntax', () => {
    expect(ignored('[a-b].txt', ['a.txt', 'b.txt', 'c.txt'])).toEqual(['a.txt', 'b.txt']);
    expect(ignored('[^a].txt', ['a.txt', 'b.txt'])).toEqual(['b.txt']);
    expect(ignored('\\*.txt', ['*.txt', 'a.txt'])).toEqual(['*.txt']);
    expect(ignored('a.(b)+{c}|$', ['a.(b)+{c}|$', 'ax(b)+{c}|$'])).toEqual(['a.(b)+{c}|$']);
  });

  it('"!" alone is refused, as the CLI refuses it', () => {
    expect(() => parseDockerignore('!')).toThrow(/"!" alone/);
  });

  it('the Dockerfile and the .dockerignore are always sent, even when a pattern leaves them out', () => {
    const rules = keepBuildFiles(parseDockerignore('**\n'), 'apps/worker/Dockerfile');
    expect(isIgnored(rules, '.dockerignore')).toBe(false);
    expect(isIgnored(rules, 'apps/worker/Dockerfile')).toBe(false);
    expect(isIgnored(rules, 'apps/worker/main.ts')).toBe(true);
    expect(hasExceptionUnder(rules, 'apps')).toBe(true);
    // Nothing is added when nothing left them out.
    expect(keepBuildFiles(parseDockerignore('node_modules'), './Dockerfile')).toHaveLength(1);
  });
});
