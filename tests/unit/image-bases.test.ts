import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressError, progressLines } from '../../apps/core/adapters/docker/engine-progress.js';
import { baseArgsOf } from '../../apps/core/adapters/docker/image-bases.js';
import { splitReference } from '../../apps/core/adapters/docker/image-pull.js';
import { ROOT } from '../helpers.js';

// What the image builder reads before it asks the engine anything: a Dockerfile's bases, an
// image reference as a pull takes it, and the engine's progress lines.
describe('the bases a Dockerfile takes as build args', () => {
  it("are the worker's and the example kind's ARGs, with their real defaults", () => {
    expect(baseArgsOf(readFileSync(join(ROOT, 'apps/worker/Dockerfile'), 'utf8'))).toEqual([
      { arg: 'BUILD_IMAGE', image: 'node:22-bookworm-slim' },
      { arg: 'RUNTIME_IMAGE', image: 'node:22-alpine' },
    ]);
    expect(baseArgsOf(readFileSync(join(ROOT, 'examples/wordcount/Dockerfile'), 'utf8'))).toEqual([{ arg: 'BASE_IMAGE', image: 'busybox:1.36' }]);
  });

  it('leave out fixed bases, earlier stages, ARGs no FROM names and ARGs declared after a FROM', () => {
    const dockerfile = [
      'ARG BASE="alpine:3.20"',
      'ARG UNUSED=x:1',
      'FROM --platform=linux/amd64 $BASE AS build',
      'ARG LATE=y:2',
      'FROM build',
      'FROM ${LATE}',
      'FROM debian:12',
    ].join('\n');
    expect(baseArgsOf(dockerfile)).toEqual([{ arg: 'BASE', image: 'alpine:3.20' }]);
  });
});

describe('an image reference as POST /images/create takes it', () => {
  it('splits name and tag, and never leaves the tag empty (that would pull every tag)', () => {
    expect(splitReference('node:22-alpine')).toEqual({ name: 'node', tag: '22-alpine' });
    expect(splitReference('busybox')).toEqual({ name: 'busybox', tag: 'latest' });
    expect(splitReference('localhost:5000/team/app')).toEqual({ name: 'localhost:5000/team/app', tag: 'latest' });
    expect(splitReference('localhost:5000/team/app:1.2')).toEqual({ name: 'localhost:5000/team/app', tag: '1.2' });
    expect(splitReference(`node:22@sha256:${'a'.repeat(64)}`)).toEqual({ name: 'node', tag: `sha256:${'a'.repeat(64)}` });
  });
});

describe("the engine's progress lines", () => {
  it('are read whole however the chunks cut them, and a line with an error is a failure', async () => {
    const chunks = ['{"stream":"Step 1/2 : FROM x\\n"}\r\n{"str', 'eam":" ---> abc\\n"}\r\n', '{"errorDetail":{"message":"it broke"},"error":"it broke"}'];
    const lines = [];
    for await (const line of progressLines(Readable.from(chunks.map((chunk) => Buffer.from(chunk))))) lines.push(line);
    expect(lines.map((line) => line.stream ?? progressError(line))).toEqual(['Step 1/2 : FROM x\n', ' ---> abc\n', 'it broke']);
    expect(progressError({ status: 'Pull complete', id: 'abc' })).toBeNull();
  });
});
