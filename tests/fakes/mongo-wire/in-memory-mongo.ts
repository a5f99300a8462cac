import { Long, ObjectId, type Document } from 'bson';
import { aggregate, find } from 'mingo';
import { update as applyUpdate } from 'mingo/updater';

/**
 * The stand-in's answers: databases of collections held in memory, queried with mingo (MongoDB's
 * query language for JavaScript objects). It models what the store uses (find, insert, update,
 * findAndModify, delete, aggregate, listIndexes, createIndexes with unique indexes, and
 * transactions) so the job store's contract can run through the real driver. Its answers are
 * MongoDB's semantics as mingo has them, not Cosmos DB's: it proves what the store sends, not
 * what Cosmos answers.
 *
 * A transaction works on its own copy of each collection it touches and sees no other writes
 * until it commits; at commit, if another writer changed a document it changed since it copied
 * it, it fails with WriteConflict and the TransientTransactionError label, so the driver runs it
 * again (MongoDB reports the conflict at the second write; reporting it at commit is coarser, and
 * serializes the same way).
 */

interface IndexSpec {
  name: string;
  key: Record<string, number>;
  unique?: boolean;
}

interface CollectionData {
  ns: string;
  docs: Document[];
  indexes: IndexSpec[];
}

interface Transaction {
  txnNumber: number;
  /** Per namespace: the transaction's copy, the documents as copied, and their versions then. */
  copies: Map<string, { data: CollectionData; original: Map<string, Document>; versions: Map<string, number> }>;
}

export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly errorLabels: string[] = [],
  ) {
    super(message);
  }
}

const DUPLICATE_KEY = 11000;
const ID_INDEX: IndexSpec = { name: '_id_', key: { _id: 1 } };

function indexName(key: Record<string, number>): string {
  return Object.entries(key).map(([field, direction]) => `${field}_${direction}`).join('_');
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function idKey(id: unknown): string {
  return JSON.stringify(id);
}

function keyOf(doc: Document, index: IndexSpec): string {
  return JSON.stringify(Object.keys(index.key).map((field) => doc[field] ?? null));
}

/** The fields an upsert's new document takes from its filter: plain top-level equalities. */
function equalityFields(filter: Document): Document {
  return Object.fromEntries(
    Object.entries(filter).filter(
      ([field, value]) => !field.startsWith('$') && !(value && typeof value === 'object' && Object.keys(value).some((k) => k.startsWith('$'))),
    ),
  );
}

function isOperatorUpdate(update: unknown): update is Document {
  return !!update && typeof update === 'object' && !Array.isArray(update) && Object.keys(update).every((k) => k.startsWith('$'));
}

export class InMemoryMongo {
  private readonly collections = new Map<string, CollectionData>();
  /** How often each committed document has changed, by namespace and _id. */
  private readonly versions = new Map<string, number>();
  private readonly transactions = new Map<string, Transaction>();
  /** The transaction the command being run belongs to, if any. */
  private active: Transaction | undefined;

  /** Creates a collection with indexes, as the Pulumi program does before any app runs. */
  createCollection(db: string, name: string, indexes: { key: Record<string, number>; unique?: boolean }[]): void {
    const data = this.collection(db, name, true);
    for (const index of indexes) this.addIndex(data, index);
  }

  /** The documents of a collection, copied. */
  documents(db: string, name: string): Document[] {
    return clone(this.collections.get(`${db}.${name}`)?.docs ?? []);
  }

  /** Runs a command, inside the session's open transaction when `session` is given. */
  run(db: string, command: Document, session?: string): Document {
    this.active = session === undefined ? undefined : this.transactions.get(session);
    if (session !== undefined && !this.active) {
      throw new CommandError(251, 'NoSuchTransaction', 'no transaction is open on this session', ['TransientTransactionError']);
    }
    try {
      return this.dispatch(db, command);
    } finally {
      this.active = undefined;
    }
  }

  begin(session: string, txnNumber: number): void {
    this.transactions.set(session, { txnNumber, copies: new Map() });
  }

  abort(session: string): void {
    this.transactions.delete(session);
  }

  /** Applies a transaction's writes at once, or fails with WriteConflict if another writer came first. */
  commit(session: string): void {
    const transaction = this.transactions.get(session);
    if (!transaction) return;
    this.transactions.delete(session);
    const changes: { ns: string; id: string; doc: Document | undefined }[] = [];
    for (const [ns, copy] of transaction.copies) {
      const now = new Map(copy.data.docs.map((doc) => [idKey(doc._id), doc]));
      for (const id of new Set([...copy.original.keys(), ...now.keys()])) {
        const before = copy.original.get(id);
        const after = now.get(id);
        if (JSON.stringify(before) === JSON.stringify(after)) continue;
        if ((this.versions.get(`${ns}|${id}`) ?? 0) !== (copy.versions.get(id) ?? 0)) {
          throw new CommandError(112, 'WriteConflict', `write conflict on ${ns} ${id}`, ['TransientTransactionError']);
        }
        changes.push({ ns, id, doc: after });
      }
    }
    const find = (data: CollectionData, id: string) => data.docs.findIndex((d) => idKey(d._id) === id);
    // Checked before anything is applied: a commit applies all of its writes or none.
    for (const { ns, id, doc } of changes) {
      const data = this.collectionIn(this.collections, ns, true);
      if (doc) this.checkUnique(data, doc, data.docs[find(data, id)]);
    }
    for (const { ns, id, doc } of changes) {
      const data = this.collectionIn(this.collections, ns, true);
      const at = find(data, id);
      if (doc && at >= 0) data.docs[at] = clone(doc);
      else if (doc) data.docs.push(clone(doc));
      else if (at >= 0) data.docs.splice(at, 1);
      this.touch(ns, doc?._id ?? JSON.parse(id));
    }
  }

  private dispatch(db: string, command: Document): Document {
    const name = Object.keys(command)[0]!;
    switch (name) {
      case 'find':
        return this.find(db, command);
      case 'getMore':
        // Every cursor is answered whole in its first batch, so no cursor is ever open.
        throw new CommandError(43, 'CursorNotFound', 'the stand-in keeps no open cursors');
      case 'killCursors':
        return { cursorsKilled: [], cursorsNotFound: command.cursors ?? [], cursorsAlive: [], cursorsUnknown: [] };
      case 'insert':
        return this.insert(db, command);
      case 'update':
        return this.update(db, command);
      case 'delete':
        return this.delete(db, command);
      case 'findAndModify':
        return this.findAndModify(db, command);
      case 'aggregate':
        return this.cursor(db, command.aggregate, aggregate(this.collection(db, command.aggregate).docs, command.pipeline ?? []));
      case 'listIndexes':
        return this.listIndexes(db, command);
      case 'createIndexes':
        return this.createIndexes(db, command);
      case 'ping':
      case 'endSessions':
        return {};
      default:
        throw new CommandError(59, 'CommandNotFound', `no such command: '${name}' (not modelled by the stand-in)`);
    }
  }

  /** The collection as the running command sees it: committed, or its transaction's copy. */
  private collection(db: string, name: string, create = false): CollectionData {
    const ns = `${db}.${name}`;
    const transaction = this.active;
    if (!transaction) return this.collectionIn(this.collections, ns, create);
    let copy = transaction.copies.get(ns);
    if (!copy) {
      const committed = this.collectionIn(this.collections, ns, false);
      const data: CollectionData = { ns, docs: clone(committed.docs), indexes: committed.indexes };
      const original = new Map(data.docs.map((doc) => [idKey(doc._id), clone(doc)]));
      const versions = new Map([...original.keys()].map((id) => [id, this.versions.get(`${ns}|${id}`) ?? 0]));
      copy = { data, original, versions };
      transaction.copies.set(ns, copy);
    }
    return copy.data;
  }

  private collectionIn(collections: Map<string, CollectionData>, ns: string, create: boolean): CollectionData {
    let data = collections.get(ns);
    if (!data) {
      data = { ns, docs: [], indexes: [ID_INDEX] };
      if (create) collections.set(ns, data);
    }
    return data;
  }

  /** Counts a committed change to a document, so a transaction that copied it before conflicts. */
  private touch(ns: string, id: unknown): void {
    if (this.active) return;
    const key = `${ns}|${idKey(id)}`;
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
  }

  private cursor(db: string, collection: string, docs: Document[]): Document {
    return { cursor: { id: Long.ZERO, ns: `${db}.${collection}`, firstBatch: clone(docs) } };
  }

  private find(db: string, command: Document): Document {
    let cursor = find(this.collection(db, command.find).docs, command.filter ?? {});
    if (command.sort) cursor = cursor.sort(command.sort);
    if (command.skip) cursor = cursor.skip(command.skip);
    if (command.limit) cursor = cursor.limit(Math.abs(command.limit));
    return this.cursor(db, command.find, cursor.all() as Document[]);
  }

  /** Throws a duplicate key error when `candidate` would break a unique index. */
  private checkUnique(data: CollectionData, candidate: Document, replacing?: Document): void {
    for (const index of data.indexes.filter((i) => i.unique || i.name === '_id_')) {
      const key = keyOf(candidate, index);
      if (data.docs.some((doc) => doc !== replacing && keyOf(doc, index) === key)) {
        throw new CommandError(DUPLICATE_KEY, 'DuplicateKey', `E11000 duplicate key error index: ${index.name} dup key: ${key}`);
      }
    }
  }

  private insert(db: string, command: Document): Document {
    const data = this.collection(db, command.insert, true);
    const writeErrors: Document[] = [];
    let n = 0;
    (command.documents as Document[]).forEach((doc, index) => {
      const stored = { _id: new ObjectId(), ...clone(doc) };
      try {
        this.checkUnique(data, stored);
        data.docs.push(stored);
        this.touch(data.ns, stored._id);
        n++;
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        writeErrors.push({ index, code: error.code, errmsg: error.message });
      }
    });
    return writeErrors.length ? { n, writeErrors } : { n };
  }

  /** Applies one operator update or replacement to a copy; returns the copy and whether it changed. */
  private applied(doc: Document, update: unknown, inserting: boolean): { next: Document; changed: boolean } {
    if (Array.isArray(update)) {
      throw new CommandError(9, 'FailedToParse', 'pipeline-style updates are not modelled by the stand-in');
    }
    const next = clone(doc);
    if (!isOperatorUpdate(update)) {
      const replaced = { _id: doc._id, ...clone(update as Document) };
      return { next: replaced, changed: JSON.stringify(replaced) !== JSON.stringify(doc) };
    }
    const { $setOnInsert, ...operators } = update;
    const expression = inserting && $setOnInsert ? { ...operators, $set: { ...operators.$set, ...$setOnInsert } } : operators;
    const changedFields = Object.keys(expression).length ? applyUpdate(next, expression) : [];
    return { next, changed: changedFields.length > 0 };
  }

  /** One update statement: the matched count, the modified count and an upserted _id. */
  private updateOne(data: CollectionData, q: Document, u: unknown, upsert: boolean, multi: boolean): { n: number; nModified: number; upserted?: unknown } {
    const matched = find(data.docs, q).all() as Document[];
    const targets = multi ? matched : matched.slice(0, 1);
    if (targets.length === 0) {
      if (!upsert) return { n: 0, nModified: 0 };
      const { next } = this.applied({ ...clone(equalityFields(q)) }, u, true);
      if (next._id === undefined) next._id = new ObjectId();
      this.checkUnique(data, next);
      data.docs.push(next);
      this.touch(data.ns, next._id);
      return { n: 1, nModified: 0, upserted: next._id };
    }
    let nModified = 0;
    for (const doc of targets) {
      const { next, changed } = this.applied(doc, u, false);
      if (!changed) continue;
      this.checkUnique(data, next, doc);
      data.docs[data.docs.indexOf(doc)] = next;
      this.touch(data.ns, next._id);
      nModified++;
    }
    return { n: targets.length, nModified };
  }

  private update(db: string, command: Document): Document {
    const data = this.collection(db, command.update, true);
    const reply: Document = { n: 0, nModified: 0 };
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    (command.updates as Document[]).forEach((statement, index) => {
      try {
        const result = this.updateOne(data, statement.q ?? {}, statement.u, !!statement.upsert, !!statement.multi);
        reply.n += result.n;
        reply.nModified += result.nModified;
        if (result.upserted !== undefined) upserted.push({ index, _id: result.upserted });
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        writeErrors.push({ index, code: error.code, errmsg: error.message });
      }
    });
    if (upserted.length) reply.upserted = upserted;
    if (writeErrors.length) reply.writeErrors = writeErrors;
    return reply;
  }

  private delete(db: string, command: Document): Document {
    const data = this.collection(db, command.delete, true);
    let n = 0;
    for (const statement of command.deletes as Document[]) {
      const matched = find(data.docs, statement.q ?? {}).all() as Document[];
      for (const doc of statement.limit === 1 ? matched.slice(0, 1) : matched) {
        data.docs.splice(data.docs.indexOf(doc), 1);
        this.touch(data.ns, doc._id);
        n++;
      }
    }
    return { n };
  }

  private findAndModify(db: string, command: Document): Document {
    const data = this.collection(db, command.findAndModify, true);
    let cursor = find(data.docs, command.query ?? {});
    if (command.sort) cursor = cursor.sort(command.sort);
    const [before] = cursor.limit(1).all() as Document[];
    if (command.remove) {
      if (before) {
        data.docs.splice(data.docs.indexOf(before), 1);
        this.touch(data.ns, before._id);
      }
      return { lastErrorObject: { n: before ? 1 : 0 }, value: before ? clone(before) : null };
    }
    const result = this.updateOne(data, before ? { _id: before._id } : (command.query ?? {}), command.update, !!command.upsert, false);
    const after = data.docs.find((doc) => JSON.stringify(doc._id) === JSON.stringify(before?._id ?? result.upserted)) ?? null;
    const lastErrorObject: Document = { n: result.n, updatedExisting: !!before };
    if (result.upserted !== undefined) lastErrorObject.upserted = result.upserted;
    return { lastErrorObject, value: clone(command.new ? after : (before ?? null)) };
  }

  private listIndexes(db: string, command: Document): Document {
    const data = this.collections.get(`${db}.${command.listIndexes}`);
    if (!data) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${db}.${command.listIndexes}`);
    return this.cursor(db, command.listIndexes, data.indexes.map((index) => ({ v: 2, ...index })));
  }

  private addIndex(data: CollectionData, wanted: { key: Record<string, number>; name?: string; unique?: boolean }): boolean {
    const name = wanted.name ?? indexName(wanted.key);
    if (data.indexes.some((index) => index.name === name)) return false;
    const index: IndexSpec = { name, key: wanted.key, ...(wanted.unique ? { unique: true } : {}) };
    if (index.unique && new Set(data.docs.map((doc) => keyOf(doc, index))).size !== data.docs.length) {
      throw new CommandError(DUPLICATE_KEY, 'DuplicateKey', `E11000 duplicate key error building index ${name}`);
    }
    data.indexes.push(index);
    return true;
  }

  private createIndexes(db: string, command: Document): Document {
    const existed = this.collections.has(`${db}.${command.createIndexes}`);
    const data = this.collection(db, command.createIndexes, true);
    const before = data.indexes.length;
    for (const index of command.indexes as Document[]) this.addIndex(data, index as IndexSpec);
    return { createdCollectionAutomatically: !existed, numIndexesBefore: before, numIndexesAfter: data.indexes.length };
  }
}
