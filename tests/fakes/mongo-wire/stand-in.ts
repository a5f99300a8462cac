import type { Document } from 'bson';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { cosmosHello } from './cosmos-hello.js';
import { encodeReply, MORE_TO_COME, OP_QUERY, readMessages, type Request } from './framing.js';
import { CommandError, InMemoryMongo } from './in-memory-mongo.js';

/** One command as the stand-in received it. */
export interface RecordedCommand {
  /** `$db` of an OP_MSG, or the database of an OP_QUERY's namespace. */
  db: string;
  /** The command's name: the body's first key (`find`, `update`, `isMaster`, …). */
  name: string;
  /** The whole body as sent, `$db`, `lsid` and transaction fields included. */
  body: Document;
  lsid?: unknown;
  txnNumber?: unknown;
  autocommit?: unknown;
  startTransaction?: unknown;
  /** Which client connection sent it (the stand-in numbers connections from 1). */
  connectionId: number;
}

export interface WireStandInOptions {
  /** The Cosmos DB for MongoDB server version whose hello it answers (e.g. "6.0"). */
  serverVersion: string;
  /** The host name it answers as; also the TLS certificate's name. Default 127.0.0.1. */
  hostName?: string;
  /** Serve TLS with this key and certificate (Cosmos accepts TLS only). */
  tls?: { key: string; cert: string };
  /** Share one in-memory database between stand-ins. */
  model?: InMemoryMongo;
}

const HANDSHAKE = new Set(['isMaster', 'ismaster', 'hello']);

/**
 * A MongoDB server on a local port, small enough to read: it answers hello as Cosmos DB for
 * MongoDB does for the chosen server version, answers everything else from an in-memory model,
 * and records every command. It lets the real `mongodb` driver drive MongoJobStore where no
 * MongoDB or Cosmos server can run. What it proves is what is sent, not what Cosmos answers.
 */
export class WireStandIn {
  readonly commands: RecordedCommand[] = [];
  readonly model: InMemoryMongo;
  port = 0;
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  constructor(private readonly options: WireStandInOptions) {
    this.model = options.model ?? new InMemoryMongo();
  }

  get hostName(): string {
    return this.options.hostName ?? '127.0.0.1';
  }

  /** host:port, as the hello answer names this server. */
  get address(): string {
    return `${this.hostName}:${this.port}`;
  }

  async start(): Promise<this> {
    const onConnection = (socket: Socket) => this.serve(socket);
    this.server = this.options.tls ? createTlsServer(this.options.tls, onConnection) : createTcpServer(onConnection);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The commands other than the driver's handshakes and monitoring. */
  operations(): RecordedCommand[] {
    return this.commands.filter((c) => !HANDSHAKE.has(c.name));
  }

  private serve(socket: Socket): void {
    const connectionId = ++this.connections;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { requests, rest } = readMessages(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const request of requests) {
        const reply = this.answer(request, connectionId);
        if (!(request.flags & MORE_TO_COME)) socket.write(encodeReply(request, reply));
      }
    });
  }

  private answer(request: Request, connectionId: number): Document {
    const { command } = request;
    const db = request.opCode === OP_QUERY ? request.namespace!.split('.')[0]! : String(command.$db);
    const name = Object.keys(command)[0]!;
    this.commands.push({
      db,
      name,
      body: command,
      lsid: command.lsid,
      txnNumber: command.txnNumber,
      autocommit: command.autocommit,
      startTransaction: command.startTransaction,
      connectionId,
    });
    if (HANDSHAKE.has(name)) return cosmosHello(this.options.serverVersion, this.address, connectionId);
    const { $db, lsid, txnNumber, autocommit, startTransaction, $clusterTime, $readPreference, ...rest } = command;
    // A command of a transaction carries autocommit: false (and the first, startTransaction).
    const session = autocommit === false ? JSON.stringify(lsid) : undefined;
    try {
      if (name === 'commitTransaction') this.model.commit(session!);
      else if (name === 'abortTransaction') this.model.abort(session!);
      else {
        if (startTransaction) this.model.begin(session!, Number(txnNumber));
        return { ...this.model.run(db, rest, session), ok: 1 };
      }
      return { ok: 1 };
    } catch (error) {
      if (error instanceof CommandError) {
        const labels = error.errorLabels.length ? { errorLabels: error.errorLabels } : {};
        return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName, ...labels };
      }
      return { ok: 0, errmsg: `stand-in failure: ${String(error)}`, code: 1, codeName: 'InternalError' };
    }
  }
}
