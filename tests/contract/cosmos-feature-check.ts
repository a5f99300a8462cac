import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequiredIndex } from '../../apps/core/store-schema/indexes.js';
import type { RecordedCommand } from '../fakes/mongo-wire/stand-in.js';
import { ROOT } from '../helpers.js';

/**
 * Checks commands the store sent against Microsoft's feature page for the chosen Cosmos DB for
 * MongoDB version (vendored in tests/fixtures/cosmos-mongodb/ with its URL and the date read):
 * the command names, the query, update and aggregation operators, the update forms, and that
 * every sort on a field other than `_id` has an index (Cosmos answers error 2, BadValue, to a
 * sort no index covers: https://learn.microsoft.com/azure/cosmos-db/mongodb/error-codes-solutions).
 * Returns one line per problem; none when everything is on the page.
 */

interface FeaturePage {
  source: { url: string; read: string };
  commands: Record<string, string[]>;
  aggregationStages: string[];
  expressions: Record<string, string[]>;
  queryOperators: Record<string, string[]>;
  updateOperators: Record<string, string[]>;
}

export function featurePage(version: string): FeaturePage {
  const file = join(ROOT, 'tests/fixtures/cosmos-mongodb', `feature-support-${version.replace('.', '')}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as FeaturePage;
}

/**
 * Commands the driver itself sends that the page does not list. `isMaster` is the driver's
 * handshake on every new connection (it sends `hello` only after the server offers helloOk);
 * Microsoft's own example runs it against Cosmos (tutorial-global-distribution). `endSessions`
 * is sent once at close; the driver ignores its failure (mongodb/lib/mongo_client.js, squashError),
 * so a Cosmos that refuses it ("doesn't yet support server-side sessions commands") costs nothing.
 */
export const DRIVER_COMMANDS = new Set(['isMaster', 'ismaster', 'endSessions']);

const COMPARISON = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'cmp']);
type Doc = Record<string, unknown>;

function isPlainObject(value: unknown): value is Doc {
  return !!value && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function hasOperatorKeys(value: unknown): value is Doc {
  return isPlainObject(value) && Object.keys(value).some((key) => key.startsWith('$'));
}

export function checkCommands(commands: RecordedCommand[], indexes: readonly RequiredIndex[], page: FeaturePage): string[] {
  const listed = (lists: Record<string, string[]>) => new Set(Object.values(lists).flat());
  const supportedCommands = listed({ ...page.commands, unsupported: [] });
  const expressions = listed(page.expressions);
  const queryOperators = new Set([...listed(page.queryOperators), ...page.expressions.comparison!]);
  const updateOperators = listed(page.updateOperators);
  const stages = new Set(page.aggregationStages);
  const problems: string[] = [];

  for (const command of commands) {
    const at = `${command.name} on ${command.db}`;
    const body = command.body as Doc;
    const collection = String(body[command.name]);
    const problem = (what: string) => problems.push(`${at}: ${what}`);

    const checkQuery = (query: unknown): void => {
      if (!isPlainObject(query)) return;
      for (const [key, value] of Object.entries(query)) {
        if (key.startsWith('$')) {
          const name = key.slice(1);
          if (!queryOperators.has(name)) problem(`query operator ${key} is not on the page`);
          if (name === 'and' || name === 'or' || name === 'nor') (value as unknown[]).forEach(checkQuery);
          if (name === 'expr') checkExpression(value);
        } else if (hasOperatorKeys(value)) {
          for (const [operator, operand] of Object.entries(value)) {
            const name = operator.slice(1);
            if (!queryOperators.has(name)) problem(`query operator ${operator} on "${key}" is not on the page`);
            if (COMPARISON.has(name) && Array.isArray(operand)) {
              problem(`${operator} on "${key}" compares with an array literal, which the page says is not supported`);
            }
            if (name === 'not') checkQuery({ [key]: operand });
          }
        }
      }
    };

    const checkExpression = (expression: unknown): void => {
      if (Array.isArray(expression)) return expression.forEach(checkExpression);
      if (!isPlainObject(expression)) return;
      for (const [key, value] of Object.entries(expression)) {
        if (key.startsWith('$')) {
          const name = key.slice(1);
          if (!expressions.has(name)) problem(`expression operator ${key} is not on the page`);
          if (COMPARISON.has(name) && Array.isArray(value) && value.some(Array.isArray)) {
            problem(`${key} compares with an array literal, which the page says is not supported`);
          }
          if (name !== 'literal') checkExpression(value);
        } else {
          checkExpression(value);
        }
      }
    };

    const checkUpdate = (update: unknown): void => {
      if (Array.isArray(update)) {
        problem('a pipeline-style update: the page documents update operators, not pipelines');
        return;
      }
      if (!hasOperatorKeys(update) || !Object.keys(update).every((key) => key.startsWith('$'))) {
        problem('an update that is not made of update operators');
        return;
      }
      for (const [operator, fields] of Object.entries(update)) {
        if (!updateOperators.has(operator.slice(1))) problem(`update operator ${operator} is not on the page`);
        for (const [field, value] of Object.entries(fields as Doc)) {
          if (hasOperatorKeys(value)) problem(`${operator} gives "${field}" an operator (${Object.keys(value).join(', ')}), which a classic update stores or refuses`);
        }
      }
    };

    const checkSort = (sort: unknown): void => {
      if (!isPlainObject(sort)) return;
      const keys = Object.keys(sort);
      if (keys.length === 1 && keys[0] === '_id') return;
      const covered = indexes.some((index) => index.collection === collection && index.keys.join() === keys.join());
      if (!covered) problem(`sorts on { ${keys.join(', ')} }, which no index on "${collection}" covers`);
    };

    if (!supportedCommands.has(command.name) && !DRIVER_COMMANDS.has(command.name)) {
      problem('the command is not on the page');
      continue;
    }
    switch (command.name) {
      case 'find':
        checkQuery(body.filter);
        checkSort(body.sort);
        break;
      case 'count':
        checkQuery(body.query);
        break;
      case 'update':
        for (const statement of body.updates as Doc[]) {
          checkQuery(statement.q);
          checkUpdate(statement.u);
        }
        break;
      case 'delete':
        for (const statement of body.deletes as Doc[]) checkQuery(statement.q);
        break;
      case 'findAndModify':
        checkQuery(body.query);
        if (body.update !== undefined) checkUpdate(body.update);
        checkSort(body.sort);
        break;
      case 'aggregate':
        for (const stage of body.pipeline as Doc[]) {
          const [name, spec] = Object.entries(stage)[0]!;
          if (!stages.has(name.slice(1))) problem(`aggregation stage ${name} is not on the page`);
          if (name === '$match') checkQuery(spec);
          else if (name === '$sort') checkSort(spec);
          else checkExpression(spec);
        }
        break;
    }
  }
  return problems;
}
