/**
 * Maps the JSON Schema printed by `promptls schema` (the `promptls` settings section, the same keys as
 * promptls.toml) onto VS Code `contributes.configuration` properties: nested objects with fixed
 * properties become dotted keys (`promptls.a.b`), everything else becomes one setting. Used by
 * scripts/sync_settings.mjs to write package.json and by the drift test to check it.
 */

type Schema = Record<string, unknown>;

/** Keys VS Code understands in a setting's schema; the rest (title, examples, ...) are dropped. */
const KEPT_KEYS = [
  'type',
  'enum',
  'enumDescriptions',
  'default',
  'description',
  'markdownDescription',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'items',
  'properties',
  'additionalProperties',
  'required',
  'anyOf',
  'oneOf',
  'const',
  'format',
];

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Resolver {
  constructor(private readonly root: Schema) {}

  /** Follows local `$ref`s and single-element `allOf` wrappers (pydantic emits both), keeping sibling keys. */
  deref(node: Schema, depth = 0): Schema {
    if (depth > 32) {
      throw new Error('settings schema: $ref chain too deep (cycle?)');
    }
    let current = node;
    if (typeof current.$ref === 'string') {
      const { $ref, ...rest } = current;
      current = { ...this.lookup($ref as string), ...rest };
      return this.deref(current, depth + 1);
    }
    if (Array.isArray(current.allOf) && current.allOf.length === 1 && isObject(current.allOf[0])) {
      const { allOf, ...rest } = current;
      current = { ...this.deref(allOf[0] as Schema, depth + 1), ...rest };
    }
    return current;
  }

  private lookup(ref: string): Schema {
    if (!ref.startsWith('#/')) {
      throw new Error(`settings schema: only local $ref are supported, got ${ref}`);
    }
    let node: unknown = this.root;
    for (const part of ref.slice(2).split('/')) {
      node = isObject(node) ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    }
    if (!isObject(node)) {
      throw new Error(`settings schema: unresolved $ref ${ref}`);
    }
    return node;
  }

  /** Resolves refs everywhere below a leaf, so the contribution is self-contained. */
  inline(node: unknown, depth = 0): unknown {
    if (depth > 32) {
      throw new Error('settings schema: nesting too deep (cycle?)');
    }
    if (Array.isArray(node)) {
      return node.map((item) => this.inline(item, depth + 1));
    }
    if (!isObject(node)) {
      return node;
    }
    const resolved = this.deref(node);
    const out: Schema = {};
    for (const [key, value] of Object.entries(resolved)) {
      if (key === '$defs' || key === 'definitions' || key === 'title' || key === '$schema') {
        continue;
      }
      out[key] = key === 'default' || key === 'enum' || key === 'const' ? value : this.inline(value, depth + 1);
    }
    return out;
  }
}

function isFixedObject(node: Schema): boolean {
  const additional = node.additionalProperties;
  return (
    isObject(node.properties) &&
    (node.type === 'object' || node.type === undefined) &&
    (additional === undefined || additional === false)
  );
}

/** Collapses the `anyOf: [X, {type: "null"}]` shape of optional fields into `type: [X, "null"]`. */
function collapseNullable(node: Schema): Schema {
  const variants = node.anyOf;
  if (!Array.isArray(variants) || variants.length !== 2) {
    return node;
  }
  const nonNull = variants.filter((v) => !(isObject(v) && v.type === 'null' && Object.keys(v).length === 1));
  if (nonNull.length !== 1 || !isObject(nonNull[0]) || typeof nonNull[0].type !== 'string') {
    return node;
  }
  const { anyOf, ...rest } = node;
  const base = nonNull[0];
  return { ...base, ...rest, type: [base.type, 'null'] };
}

function toContribution(node: Schema, fallbackDefault: unknown): Schema {
  const collapsed = collapseNullable(node);
  const out: Schema = {};
  for (const key of KEPT_KEYS) {
    if (collapsed[key] !== undefined) {
      out[key] = collapsed[key];
    }
  }
  if (out.default === undefined && fallbackDefault !== undefined) {
    out.default = fallbackDefault;
  }
  if (collapsed.deprecated === true) {
    out.markdownDeprecationMessage =
      typeof collapsed.description === 'string' ? collapsed.description : 'Deprecated.';
  }
  return out;
}

export function settingsFromSchema(schema: Schema, prefix = 'promptls'): Record<string, Schema> {
  const resolver = new Resolver(schema);
  const result: Record<string, Schema> = {};
  const walk = (raw: Schema, key: string, parentDefault: unknown): void => {
    const node = resolver.deref(raw);
    const ownDefault = node.default !== undefined ? node.default : parentDefault;
    if (isFixedObject(node)) {
      for (const [name, child] of Object.entries(node.properties as Schema)) {
        if (!isObject(child)) {
          continue;
        }
        const childDefault = isObject(ownDefault) ? ownDefault[name] : undefined;
        walk(child, `${key}.${name}`, childDefault);
      }
      return;
    }
    result[key] = toContribution(resolver.inline(node) as Schema, parentDefault);
  };
  const root = resolver.deref(schema);
  if (!isFixedObject(root)) {
    throw new Error('settings schema: the root must be an object with properties');
  }
  walk(root, prefix, root.default);
  return result;
}
