import { deserialize, serialize, type Document } from 'bson';

/**
 * MongoDB wire messages, as much as a driver needs from a server: OP_MSG both ways, and the
 * legacy OP_QUERY / OP_REPLY pair that the driver still uses for its first handshake on a
 * connection (before it knows the server's wire version).
 * https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
 */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
const HEADER_BYTES = 16;
const CHECKSUM_PRESENT = 1;
export const MORE_TO_COME = 2;

export interface Request {
  requestId: number;
  opCode: number;
  flags: number;
  /** The command: OP_MSG's body with its document sequences folded in, or OP_QUERY's query. */
  command: Document;
  /** OP_QUERY's namespace (`admin.$cmd`); OP_MSG carries the database as `$db`. */
  namespace?: string;
}

/** Reads every complete message at the start of `buffer`; returns them and the rest. */
export function readMessages(buffer: Buffer): { requests: Request[]; rest: Buffer } {
  const requests: Request[] = [];
  let offset = 0;
  while (buffer.length - offset >= 4) {
    const length = buffer.readInt32LE(offset);
    if (buffer.length - offset < length) break;
    requests.push(parseMessage(buffer.subarray(offset, offset + length)));
    offset += length;
  }
  return { requests, rest: buffer.subarray(offset) };
}

function parseMessage(message: Buffer): Request {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) return { requestId, opCode, ...parseOpMsg(message) };
  if (opCode === OP_QUERY) return { requestId, opCode, flags: 0, ...parseOpQuery(message) };
  throw new Error(`the stand-in does not speak opCode ${opCode}`);
}

function parseOpMsg(message: Buffer): { flags: number; command: Document } {
  const flags = message.readUInt32LE(HEADER_BYTES);
  const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
  let offset = HEADER_BYTES + 4;
  let command: Document = {};
  const sequences: Record<string, Document[]> = {};
  while (offset < end) {
    const kind = message.readUInt8(offset++);
    if (kind === 0) {
      const size = message.readInt32LE(offset);
      command = deserialize(message.subarray(offset, offset + size));
      offset += size;
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      const nameEnd = message.indexOf(0, offset + 4);
      const name = message.toString('utf8', offset + 4, nameEnd);
      const documents: Document[] = [];
      for (let at = nameEnd + 1; at < sectionEnd; ) {
        const docSize = message.readInt32LE(at);
        documents.push(deserialize(message.subarray(at, at + docSize)));
        at += docSize;
      }
      sequences[name] = documents;
      offset = sectionEnd;
    } else {
      throw new Error(`unknown OP_MSG section kind ${kind}`);
    }
  }
  return { flags, command: { ...command, ...sequences } };
}

function parseOpQuery(message: Buffer): { command: Document; namespace: string } {
  let offset = HEADER_BYTES + 4;
  const nameEnd = message.indexOf(0, offset);
  const namespace = message.toString('utf8', offset, nameEnd);
  offset = nameEnd + 1 + 8; // numberToSkip, numberToReturn
  const size = message.readInt32LE(offset);
  return { namespace, command: deserialize(message.subarray(offset, offset + size)) };
}

function header(length: number, responseTo: number, opCode: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.writeInt32LE(length, 0);
  bytes.writeInt32LE(0, 4);
  bytes.writeInt32LE(responseTo, 8);
  bytes.writeInt32LE(opCode, 12);
  return bytes;
}

/** The answer to `request`, in the same protocol it came in. */
export function encodeReply(request: Request, reply: Document): Buffer {
  const body = Buffer.from(serialize(reply));
  if (request.opCode === OP_QUERY) {
    const fields = Buffer.alloc(20); // responseFlags, cursorID (int64), startingFrom, numberReturned
    fields.writeInt32LE(1, 16);
    return Buffer.concat([header(HEADER_BYTES + 20 + body.length, request.requestId, OP_REPLY), fields, body]);
  }
  const flagsAndKind = Buffer.from([0, 0, 0, 0, 0]); // flagBits 0, section kind 0
  return Buffer.concat([header(HEADER_BYTES + 5 + body.length, request.requestId, OP_MSG), flagsAndKind, body]);
}
