import { Agent, request } from 'node:http';

export interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** One keep-alive connection, as a browser tab polls with: requests are timed from send to the last byte. */
export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly base: string) {}

  /** A JSON body, or a form's fields (as the dashboard's own form posts them). */
  send(method: string, path: string, body?: unknown, as: 'json' | 'form' = 'json'): Promise<Answer> {
    const payload = body === undefined ? undefined : as === 'json' ? JSON.stringify(body) : new URLSearchParams(body as Record<string, string>).toString();
    const type = as === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(
        `${this.base}${path}`,
        { method, agent: this.agent, headers: payload ? { 'content-type': type, 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path: string): Promise<Answer> {
    return this.send('GET', path);
  }

  close(): void {
    this.agent.destroy();
  }
}
