import ajv2019 from 'ajv/dist/2019.js';
import type { ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

// CommonJS packages: under NodeNext their ES default is the module object.
const Ajv2019 = ajv2019.default;
const addFormats = ajvFormats.default;
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

/**
 * Azure's published REST spec for container groups, at the SDK's api-version (2023-05-01),
 * with examples: copied unchanged from Azure/azure-rest-api-specs (MIT; provenance in the
 * folder's README), so the tests need nothing outside the repository.
 */
export const SPEC_DIR = join(ROOT, 'tests/fixtures/azure-rest-api-specs/containerinstance');
const SPEC_FILE = join(SPEC_DIR, '2023-05-01/containerInstance.json');

type Schema = Record<string, unknown>;

/**
 * Swagger definitions do not forbid unknown properties, so a misspelt field would pass. Object
 * schemas are closed with `unevaluatedProperties: false`, so a request must use exactly the
 * names Azure defines. Definitions that are parts of an allOf stay open: the whole they
 * belong to is closed, and it sees the properties every part evaluated.
 */
function closeObjects(node: unknown, open: Set<unknown> = new Set()): unknown {
  if (Array.isArray(node)) return node.map((item) => closeObjects(item, open));
  if (node === null || typeof node !== 'object') return node;
  const schema = Object.fromEntries(Object.entries(node as Schema).map(([k, v]) => [k, closeObjects(v, open)])) as Schema;
  if (!open.has(node) && (schema.properties || schema.allOf) && schema.additionalProperties === undefined) {
    schema.unevaluatedProperties = false;
  }
  return schema;
}

function closeDefinitions(definitions: Record<string, Schema>): Record<string, unknown> {
  const parts = new Set(
    JSON.stringify(definitions)
      .match(/"allOf":\[[^\]]*\]/g)
      ?.flatMap((allOf) => [...allOf.matchAll(/#\/definitions\/(\w+)/g)].map((m) => m[1])) ?? [],
  );
  return Object.fromEntries(
    Object.entries(definitions).map(([name, schema]) => [name, parts.has(name) ? closeObjects(schema, new Set([schema])) : closeObjects(schema)]),
  );
}

function loadSpec(): Schema {
  return JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as Schema;
}

let cached: { request: ValidateFunction; response: ValidateFunction } | null = null;

/** Validators for ContainerGroup bodies: requests closed to unknown names; responses as published. */
export function containerGroupValidators(): { request: ValidateFunction; response: ValidateFunction } {
  if (cached) return cached;
  const make = (spec: Schema) => {
    // Swagger's x-ms-* annotations and readOnly are documentation to a validator.
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat('double', { type: 'number', validate: () => true });
    ajv.addSchema({ ...spec, $id: 'containerInstance.json' } as never);
    return ajv.compile({ $ref: 'containerInstance.json#/definitions/ContainerGroup' });
  };
  const spec = loadSpec();
  // The definitions sit inside the swagger document; closing them leaves paths alone.
  const closed = { ...spec, definitions: closeDefinitions(spec.definitions as Record<string, Schema>) };
  cached = { request: make(closed), response: make(spec) };
  return cached;
}

export function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'unevaluatedProperty' in e.params ? ` (${String(e.params.unevaluatedProperty)})` : ''}`).join('; ');
}

export function readExample(relative: string): { responses: Record<string, { body?: unknown }> } {
  return JSON.parse(readFileSync(join(SPEC_DIR, relative), 'utf8'));
}
