import { describe, expect, it } from 'vitest';
import { describeEnd, endOfContainer, shouldRetry, DEFAULT_RETRY_POLICY } from '../../apps/core/domain/retry-policy.js';

// The rule beside the retry policy (endOfContainer): what a runtime saw decides, never a code alone.
describe('how a finished container ended (endOfContainer)', () => {
  it('an exit code is the program’s own exit, 137 and 255 included: it is never read as a signal', () => {
    for (const exitCode of [1, 137, 143, 192, 193, 255]) {
      const end = endOfContainer({ exitCode, signal: null, stoppedFor: null });
      expect(end).toEqual({ kind: 'exit', exitCode });
      expect(describeEnd(end)).toBe(`exited with code ${exitCode}`);
      expect(shouldRetry(DEFAULT_RETRY_POLICY, 1, end)).toBe(false);
    }
  });

  it('a runtime that knows only a code (ACI: no signal field) reports an exit', () => {
    expect(endOfContainer({ exitCode: 137 })).toEqual({ kind: 'exit', exitCode: 137 });
  });

  it('a signal the runtime saw, with no stop of the stack, is killed and runs again', () => {
    const end = endOfContainer({ exitCode: 137, signal: 9, stoppedFor: null });
    expect(end).toEqual({ kind: 'killed', signal: 9, exitCode: 137 });
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 1, end)).toBe(true);
  });

  it('the stack’s own stop decides by its reason: only a shutdown runs again', () => {
    expect(endOfContainer({ exitCode: 143, signal: 15, stoppedFor: 'timeout' })).toEqual({ kind: 'timeout' });
    expect(endOfContainer({ exitCode: 143, signal: 15, stoppedFor: 'cancel' })).toEqual({ kind: 'cancelled' });
    // A program that answers SIGTERM with an exit code of its own was still stopped for the shutdown.
    const shutdown = endOfContainer({ exitCode: 1, signal: null, stoppedFor: 'shutdown' });
    expect(shutdown).toEqual({ kind: 'killed', signal: null, exitCode: 1 });
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 1, shutdown)).toBe(true);
    for (const stoppedFor of ['timeout', 'cancel'] as const) expect(shouldRetry(DEFAULT_RETRY_POLICY, 1, endOfContainer({ exitCode: 143, signal: 15, stoppedFor }))).toBe(false);
  });

  it('no code and no signal: lost', () => {
    expect(endOfContainer({ exitCode: null, signal: null, stoppedFor: null })).toEqual({ kind: 'lost' });
  });
});
