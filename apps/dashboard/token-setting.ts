import type { SettingsReader } from '../core/settings/reader.js';

/** A user-chosen token's least length (README: tokens of 24–31 characters are refused since issue 31). */
export const MIN_TOKEN_LENGTH = 32;

/** DASHBOARD_TOKEN and ALLOW_ANONYMOUS, as both servers read them. */
export interface TokenSetting {
  token: string | null;
  anonymous: boolean;
}

/**
 * Reads the access token. A user-chosen token must have at least 32 characters (tokens of
 * 24–31 characters were accepted before issue 31 and are now refused; the README says so). The
 * message gives the length, never the value.
 */
export function readTokenSetting(read: SettingsReader): TokenSetting {
  const anonymous = read.oneOf('ALLOW_ANONYMOUS', ['true', 'false'], 'false') === 'true';
  const token = read.string('DASHBOARD_TOKEN', '');
  if (token && token.length < MIN_TOKEN_LENGTH) {
    read.problem(`DASHBOARD_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters (got ${token.length}); tokens of 24 to 31 characters are no longer accepted`);
  }
  return { token: token || null, anonymous };
}
