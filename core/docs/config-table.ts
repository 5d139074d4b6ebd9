import { z } from 'zod';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return `map of ${typeOf(s.additionalProperties)}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * A markdown table of every key of a zod schema (nested objects flattened as dotted keys), from
 * the schema's own defaults and descriptions: docs that cannot drift from the code.
 */
export function configTable(schema: z.ZodType, prefix = ''): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: string[] = [];
  const walk = (s: JsonSchema, path: string) => {
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      const key = path ? `${path}.${k}` : k;
      if (v.type === 'object' && v.properties && Object.keys(v.properties).length) {
        walk(v, key);
        continue;
      }
      const def = v.default === undefined ? '' : `\`${JSON.stringify(v.default)}\``;
      rows.push(`| \`${prefix}${key}\` | ${typeOf(v)} | ${cell(def)} | ${cell(v.description ?? '')} |`);
    }
  };
  walk(json, '');
  return ['| key | type | default | description |', '|---|---|---|---|', ...rows].join('\n');
}
