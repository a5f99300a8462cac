import { describe, expect, it } from 'vitest';
import { failureTail, outputFromLogs, progressFromLogs } from '../../apps/core/domain/container-output.js';

describe("a failure's reason, in the program's own words", () => {
  const log = ['starting', 'progress 0.25', 'step one', 'progress 0.75', 'step two', '{"output": "half"}', 'progress 1.0', 'oops', ''].join('\n');

  it('is the last three lines of its log, protocol lines (progress, the output line) left out', () => {
    expect(failureTail(log)).toBe('step one ⏎ step two ⏎ oops');
  });

  it('is read from its error output first, where the runtime keeps it apart', () => {
    expect(failureTail(log, 'warning: slow\nTraceback\n  File "x.py"\nValueError: bad\n')).toBe('Traceback ⏎ File "x.py" ⏎ ValueError: bad');
    // An error output with nothing in it (the program told its story on stdout): the log.
    expect(failureTail(log, '\nprogress 0.5\n')).toBe('step one ⏎ step two ⏎ oops');
    expect(failureTail('progress 0.5\n', '')).toBe('');
  });

  it('keeps a line that only looks like the protocol', () => {
    expect(failureTail('progress bar at 50%\n{"error": "x"}\n{not json')).toBe('progress bar at 50% ⏎ {"error": "x"} ⏎ {not json');
  });
});

describe('progress and output from a log', () => {
  it('takes the last progress line, and the last output line', () => {
    expect(progressFromLogs('progress 0.25\nprogress 1.0\nTraceback')).toBe(1);
    expect(progressFromLogs('nothing')).toBeNull();
    expect(outputFromLogs('{"output": "a"}\nprogress 1\n')).toBe('a');
  });
});
