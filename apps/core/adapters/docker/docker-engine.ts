import { request as httpRequest, type IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { AppError, errorMessage } from '../../domain/errors.js';

/**
 * Docker Engine API 1.41 (Docker 20.10), the oldest engine this client is written for; newer
 * engines answer it too. Every path below is that version's:
 * https://docs.docker.com/reference/api/engine/version/v1.41/
 */
export const DOCKER_API_VERSION = 'v1.41';
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** The engine answered with an error: its status and its own message. */
export class DockerEngineError extends AppError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    message: string,
  ) {
    super('DOCKER_ENGINE', `Docker engine: ${method} ${path} answered ${status}: ${message}`);
  }
}

/** No engine answers at the socket. */
export class DockerUnreachableError extends AppError {
  constructor(socketPath: string, cause: unknown) {
    super('DOCKER_UNREACHABLE', `no Docker engine answers at ${socketPath} (${errorMessage(cause)})`, { cause });
  }
}

export interface EngineRequest {
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON, or a stream sent as it is (a build context). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that are answers rather than errors (404 for "no such container", say). */
  accept?: number[];
  signal?: AbortSignal;
}

export interface EngineReply<T> {
  status: number;
  body: T;
}

/**
 * A client of the Docker Engine API over its Unix socket: plain HTTP, no CLI, no SDK. Only
 * what the local runtime uses: JSON requests, and responses read as a stream (logs, builds).
 */
export class DockerEngine {
  constructor(readonly socketPath: string = DEFAULT_DOCKER_SOCKET) {}

  /**
   * The socket a `DOCKER_HOST` value names, as the CLI reads it: unset means the default
   * socket; only `unix://` is served (a TCP engine needs TLS settings this client does not take).
   */
  static socketFromDockerHost(value: string | undefined): string {
    if (!value) return DEFAULT_DOCKER_SOCKET;
    if (value.startsWith('unix://')) return value.slice('unix://'.length);
    throw new AppError('DOCKER_HOST', `DOCKER_HOST ${value} is not a unix:// socket, the only kind CONTAINERS=docker uses`);
  }

  /** Throws DockerUnreachableError unless the engine answers. */
  async ping(): Promise<void> {
    try {
      await this.json('GET', '/_ping');
    } catch (error) {
      if (error instanceof DockerEngineError) throw error;
      throw new DockerUnreachableError(this.socketPath, error);
    }
  }

  /** A JSON request; an empty or non-JSON answer is its text. */
  async json<T = unknown>(method: string, path: string, options: EngineRequest = {}): Promise<EngineReply<T>> {
    const response = await this.stream(method, path, options);
    const text = (await readBytes(response)).toString('utf8');
    let body: unknown = text;
    if ((response.headers['content-type'] ?? '').includes('json') && text !== '') body = JSON.parse(text);
    return { status: response.statusCode ?? 0, body: body as T };
  }

  /** The answer's bytes as they are (logs, which are framed binary). */
  async bytes(method: string, path: string, options: EngineRequest = {}): Promise<EngineReply<Buffer>> {
    const response = await this.stream(method, path, options);
    return { status: response.statusCode ?? 0, body: await readBytes(response) };
  }

  /**
   * The response as a stream, once its status is known to be accepted. A refused status is
   * read whole and thrown as a DockerEngineError with the engine's message.
   */
  async stream(method: string, path: string, options: EngineRequest = {}): Promise<IncomingMessage> {
    const response = await this.send(method, path, options);
    const status = response.statusCode ?? 0;
    if (status < 300 || options.accept?.includes(status)) return response;
    const text = (await readBytes(response)).toString('utf8');
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: the text as it is
    }
    throw new DockerEngineError(status, method, path, message);
  }

  private send(method: string, path: string, options: EngineRequest): Promise<IncomingMessage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) query.set(key, String(value));
    const search = query.size > 0 ? `?${query}` : '';
    const streamed = isReadable(options.body);
    const payload = options.body === undefined || streamed ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { socketPath: this.socketPath, method, path: `/${DOCKER_API_VERSION}${path}${search}`, headers, signal: options.signal },
        resolve,
      );
      req.on('error', reject);
      // pipeline, not pipe: an error reading the body (a build context's file) ends the request
      // and is this request's error, rather than an unhandled one.
      if (streamed) pipeline(options.body as Readable, req, (error) => error && reject(error));
      else req.end(payload);
    });
  }
}

function isReadable(value: unknown): value is Readable {
  return typeof (value as Readable | undefined)?.pipe === 'function';
}

async function readBytes(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
