import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.js';

// The rules `npm run check:images` applies to the files of each image (scripts/check-images.mjs).
// The images themselves need a Docker engine and are checked in CI; these are the rules alone,
// and what the check says where no engine answers.
interface ImageRules {
  findSecrets(text: string): string[];
  isSecretFileName(path: string): boolean;
  findNativeModules(paths: string[]): string[];
  findDevDependencies(paths: string[], lockfile: unknown): string[];
}

const SCRIPT = join(ROOT, 'scripts/check-images.mjs');
const rules = (await import(pathToFileURL(SCRIPT).href)) as ImageRules;
const lockfile: unknown = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
const run = promisify(execFile);

describe('what an image must not contain', () => {
  it('finds native addons, and nothing else', () => {
    expect(
      rules.findNativeModules([
        '/usr/local/bin/node',
        '/app/worker.mjs',
        '/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      ]),
    ).toEqual(['/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node']);
  });

  it('finds dev-only packages installed or bundled, by the lockfile', () => {
    expect(
      rules.findDevDependencies(
        [
          '/app/node_modules/typescript/package.json',
          '../../src/node_modules/@pulumi/pulumi/index.js',
          '../../src/node_modules/vitest/dist/index.js',
          // ajv is a devDependency and also what fastify needs: production, so allowed.
          '../../src/node_modules/ajv/dist/core.js',
          '../../src/node_modules/fastify/fastify.js',
          // The base image's own npm is not the project's.
          '/usr/local/lib/node_modules/npm/node_modules/semver/index.js',
          '../../src/apps/worker/main.ts',
        ],
        lockfile,
      ),
    ).toEqual(['node_modules/@pulumi/pulumi', 'node_modules/typescript', 'node_modules/vitest']);
  });

  it('names npm and environment files as leaks', () => {
    expect(['/app/.npmrc', '/root/.npmrc', '/app/.env', '/app/.env.production'].every(rules.isSecretFileName)).toBe(true);
    expect(['/app/environment.js', '/app/.envrc-like.md', '/app/worker.mjs'].some(rules.isSecretFileName)).toBe(false);
  });

  it('finds credentials, and not the text that merely names them', () => {
    const npmToken = `npm_${'a1B2'.repeat(9)}`;
    expect(rules.findSecrets(`//registry.npmjs.org/:_authToken=${npmToken}`)).toEqual(['npm token', 'npm auth setting']);
    expect(rules.findSecrets(`-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.repeat(2)}\n`)).toEqual(['private key']);
    // A source map keeps sources as JSON text: its newlines are the two characters \n.
    expect(rules.findSecrets(`"-----BEGIN RSA PRIVATE KEY-----\\n${'MIIEpAIBAAKCAQEA'.repeat(4)}\\n"`)).toEqual(['private key']);
    expect(rules.findSecrets('mongodb://acct:c2VjcmV0@acct.mongo.cosmos.azure.com:10255/?ssl=true')).toEqual([
      'credentials in a connection string',
    ]);
    expect(rules.findSecrets('Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/=')).toEqual([
      'Azure account or access key',
    ]);

    // What the bundled SDKs and drivers say about credentials, with none in it.
    expect(rules.findSecrets('the PEM encoded private key (string should contain -----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY----- )')).toEqual([]);
    expect(rules.findSecrets('`Endpoint=${endpoint};SharedAccessKeyName=${name};SharedAccessKey=${key}`')).toEqual([]);
    expect(rules.findSecrets('mongodb://localhost:27017/jobs or `mongodb://${user}:${password}@${host}`')).toEqual([]);
  });
});

describe('npm run check:images without a Docker engine', () => {
  async function checkWith(docker: string) {
    return run(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? '', DOCKER: docker } }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
  }

  it('says there is no docker command, and exits 2', async () => {
    const result = await checkWith('/nonexistent/docker');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("check:images needs a Docker engine, and none answers: there is no '/nonexistent/docker' command");
  });

  it('says what docker said when no engine answers, and exits 2', async () => {
    const dir = tempDir();
    try {
      const docker = join(dir.path, 'docker');
      writeFileSync(docker, '#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\nexit 1\n');
      chmodSync(docker, 0o755);
      const result = await checkWith(docker);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Cannot connect to the Docker daemon');
      expect(result.stderr).toContain('.ci/run starts one');
    } finally {
      dir.remove();
    }
  });
});
