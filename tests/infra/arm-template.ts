/**
 * Evaluates the few ARM template expressions the stack's templates use, so a test can show the
 * request bodies ARM will send: parameters (with defaults), variables, format, concat, utcNow,
 * dateTimeAdd (hours and minutes) and list* functions, which a test answers. Anything else throws:
 * a template that needs more than this is not what the tests have seen.
 * Syntax: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions
 */
export interface TemplateContext {
  parameters: Record<string, unknown>;
  /** The deployment's start: what utcNow() returns. */
  now: Date;
  /** Answers list* calls (listServiceSas, ...), with what they were called with. */
  list: (fn: string, resourceId: string, apiVersion: string, body: unknown) => unknown;
}

type Template = { parameters?: Record<string, { defaultValue?: unknown }>; variables?: Record<string, unknown>; resources: unknown[] };

const pad = (n: number) => String(n).padStart(2, '0');

function formatDate(date: Date, format: string): string {
  if (format === 'yyyyMMddTHHmmssZ') {
    return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  }
  if (format === 'yyyy-MM-ddTHH:mm:ssZ') return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  throw new Error(`date format ${format} is not supported here`);
}

function parseDate(text: string): Date {
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (basic) return new Date(Date.UTC(+basic[1]!, +basic[2]! - 1, +basic[3]!, +basic[4]!, +basic[5]!, +basic[6]!));
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`not a date: ${text}`);
  return date;
}

export function evaluateTemplate(template: Template, context: TemplateContext): unknown[] {
  const parameters: Record<string, unknown> = {};
  const variables: Record<string, unknown> = {};

  const expression = (text: string): unknown => {
    let at = 0;
    const skip = () => {
      while (text[at] === ' ') at++;
    };
    const value = (): unknown => {
      skip();
      let result: unknown;
      if (text[at] === "'") {
        const end = text.indexOf("'", at + 1);
        result = text.slice(at + 1, end);
        at = end + 1;
      } else {
        const name = /^[A-Za-z]+/.exec(text.slice(at))?.[0];
        if (!name) throw new Error(`cannot read "${text}" at ${at}`);
        at += name.length;
        skip();
        if (text[at] !== '(') throw new Error(`"${name}" is not a call in "${text}"`);
        at++;
        const args: unknown[] = [];
        skip();
        while (text[at] !== ')') {
          args.push(value());
          skip();
          if (text[at] === ',') at++;
        }
        at++;
        result = call(name, args);
      }
      while (text[at] === '.') {
        const property = /^[A-Za-z]+/.exec(text.slice(at + 1))![0];
        at += 1 + property.length;
        result = (result as Record<string, unknown>)[property];
      }
      return result;
    };
    const result = value();
    if (at !== text.length) throw new Error(`unexpected "${text.slice(at)}" in "${text}"`);
    return result;
  };

  const call = (name: string, args: unknown[]): unknown => {
    switch (name) {
      case 'parameters':
        if (!(String(args[0]) in parameters)) throw new Error(`no parameter ${String(args[0])}`);
        return parameters[String(args[0])];
      case 'variables':
        if (!(String(args[0]) in variables)) throw new Error(`no variable ${String(args[0])}`);
        return variables[String(args[0])];
      case 'format':
        return String(args[0]).replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i) + 1]));
      case 'concat':
        return args.map(String).join('');
      case 'utcNow':
        return formatDate(context.now, args.length ? String(args[0]) : 'yyyyMMddTHHmmssZ');
      case 'dateTimeAdd': {
        const duration = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(String(args[1]));
        if (!duration) throw new Error(`duration ${String(args[1])} is not supported here`);
        const base = String(args[0]);
        const added = new Date(parseDate(base).getTime() + (Number(duration[1] ?? 0) * 60 + Number(duration[2] ?? 0)) * 60_000);
        return formatDate(added, args[2] === undefined ? 'yyyyMMddTHHmmssZ' : String(args[2]));
      }
      default:
        if (name.startsWith('list')) return context.list(name, String(args[0]), String(args[1]), args[2]);
        throw new Error(`template function ${name} is not supported here`);
    }
  };

  const resolve = (node: unknown): unknown => {
    if (typeof node === 'string') return node.startsWith('[') && node.endsWith(']') && !node.startsWith('[[') ? expression(node.slice(1, -1)) : node;
    if (Array.isArray(node)) return node.map(resolve);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]));
    return node;
  };

  for (const [name, declaration] of Object.entries(template.parameters ?? {})) {
    if (name in context.parameters) parameters[name] = context.parameters[name];
    else if ('defaultValue' in declaration) parameters[name] = resolve(declaration.defaultValue);
    else throw new Error(`parameter ${name} has no value and no default`);
  }
  for (const name of Object.keys(context.parameters)) if (!(name in parameters)) throw new Error(`the template declares no parameter ${name}`);
  for (const [name, definition] of Object.entries(template.variables ?? {})) variables[name] = resolve(definition);
  return template.resources.map(resolve);
}
