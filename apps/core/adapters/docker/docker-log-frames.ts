/**
 * The bytes of a container's logs as the engine sends them for a container without a TTY: a
 * stream of frames, each an 8-byte header (stream type, three zero bytes, a big-endian
 * length) and that many bytes of stdout or stderr, in the order they were written:
 * https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerAttach
 */
export function demultiplexLogs(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const length = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts);
}
