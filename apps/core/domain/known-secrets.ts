import type { NamedSecret } from './secret-masker.js';
import type { KindCatalog } from './task-kind.js';
import { secretValuesIn } from './worker-contract.js';

/**
 * Every secret value the stack hands to a container, by a name that may be shown: each kind's
 * `secretEnv` values and the password in DATABASE_URI (as written, and %-decoded, since a
 * program may print either).
 */
export function knownSecrets(kinds: KindCatalog, databaseUri: string | null): NamedSecret[] {
  const found: NamedSecret[] = [];
  for (const name of kinds.names()) {
    for (const [variable, value] of Object.entries(kinds.get(name)?.secretEnv ?? {})) {
      found.push({ name: `kind "${name}" secretEnv ${variable}`, value });
    }
  }
  const password = databaseUri ? passwordOf(databaseUri) : null;
  if (password) {
    found.push({ name: 'the password in DATABASE_URI', value: password });
    const decoded = safeDecode(password);
    if (decoded !== password) found.push({ name: 'the password in DATABASE_URI', value: decoded });
  }
  return found;
}

/** The password of a `scheme://user:password@host…` URI, as written; null when there is none. */
export function passwordOf(uri: string): string | null {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:([^@/?#]*)@/i.exec(uri);
  return match?.[1] ? match[1] : null;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The secrets a container was given, as it finds them in its own environment. */
export function knownSecretsOfWorker(env: Record<string, string | undefined>): NamedSecret[] {
  const found = secretValuesIn(env);
  const password = env.DATABASE_URI ? passwordOf(env.DATABASE_URI) : null;
  if (password) found.push({ name: 'the password in DATABASE_URI', value: password }, { name: 'the password in DATABASE_URI', value: safeDecode(password) });
  return found;
}
