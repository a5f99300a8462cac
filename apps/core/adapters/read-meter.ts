/**
 * How many rows (SQLite) or documents (MongoDB) a store has read, counted by the adapter where
 * it reads them: a row an aggregate scans counts as read even when only a sum comes back. On
 * Cosmos DB a read's request charge grows with the documents it reads, so this is the number
 * that shows whether a request costs O(what changed) or O(every task). `npm run bench` reads it
 * around each request; nothing else depends on it.
 */
export class ReadMeter {
  private total = 0;

  /** Adds `rows` and hands them back, so a read can be counted where it is returned. */
  count<T extends { length: number }>(rows: T): T {
    this.total += rows.length;
    return rows;
  }

  /** Adds a number of rows read without their being returned (an aggregate's input). */
  add(rows: number): void {
    this.total += rows;
  }

  get rows(): number {
    return this.total;
  }
}
