import { DEFAULT_RETRY_POLICY, isExitCodePattern, type RetryPolicy } from '../domain/retry-policy.js';
import type { SettingsReader } from './reader.js';

/** MAX_ATTEMPTS and RETRY_EXIT_CODES, the same on both stacks. */
export function readRetryPolicy(read: SettingsReader): RetryPolicy {
  return {
    maxAttempts: read.integer('MAX_ATTEMPTS', DEFAULT_RETRY_POLICY.maxAttempts, { min: 1, max: 20 }),
    retryOnExitCodes: read.list('RETRY_EXIT_CODES', DEFAULT_RETRY_POLICY.retryOnExitCodes, isExitCodePattern, 'exit codes such as 3 or 10* (AWS Batch onExitCode)'),
  };
}
