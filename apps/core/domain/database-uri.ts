// DATABASE_URI, read as text before anything is opened: which store it names, what is wrong
// with it, and where it points for a message (never its credentials). It sits in the domain
// beside the worker contract, which hands DATABASE_URI to every worker: settings readers check
// it and the store adapters open it, and neither layer may import the other.

const MONGODB_URI = /^mongodb(\+srv)?:\/\//;

/** `sqlite:/abs/path.db`, `sqlite:///abs/path.db` or `sqlite:relative.db` → the file path ('' when none). */
export function sqlitePathFromUri(uri: string): string {
  return uri.replace(/^sqlite:(\/\/(?=\/))?/, '');
}

/** What is wrong with a DATABASE_URI before anything is opened, or null: for settings readers. */
export function databaseUriProblem(databaseUri: string): string | null {
  if (databaseUri.startsWith('sqlite:')) {
    return sqlitePathFromUri(databaseUri) ? null : `DATABASE_URI "${databaseUri}" names no file: write sqlite:<file>, for example sqlite:.data/jobs.db`;
  }
  if (MONGODB_URI.test(databaseUri)) return null;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUri)?.[1];
  return `DATABASE_URI must start with sqlite:, mongodb:// or mongodb+srv:// (got ${scheme ? `"${scheme}:"` : 'no scheme'})`;
}

/** Where a connection string points, for messages: hosts and database, never credentials. */
export function describeDatabase(databaseUri: string): string {
  if (databaseUri.startsWith('sqlite:')) return `SQLite file ${databaseUri.slice('sqlite:'.length) || '(none)'}`;
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)(?:\/([^?]*))?/.exec(databaseUri);
  if (!match) return 'an unrecognised DATABASE_URI';
  return `MongoDB at ${match[1] || '(no host)'}${match[2] ? `, database ${match[2]}` : ''}`;
}
