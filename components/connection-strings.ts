/**
 * The worker's DATABASE_URI: the Cosmos connection string with its `ssl` parameter removed and
 * every other parameter kept, in order and well-formed (docs/design.md; the original system's worker
 * broke on `ssl=true`, and the worker turns TLS on itself for any non-local host).
 */
export function withoutSslParameter(connectionString: string): string {
  const queryStart = connectionString.indexOf('?');
  if (queryStart < 0) return connectionString;
  const base = connectionString.slice(0, queryStart);
  const kept = connectionString
    .slice(queryStart + 1)
    .split('&')
    .filter((pair) => pair !== '' && pair.split('=')[0]!.toLowerCase() !== 'ssl');
  return kept.length > 0 ? `${base}?${kept.join('&')}` : base;
}
