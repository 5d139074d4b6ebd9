/**
 * Scored rules on headers and body, as an admin writes them in config or in rule files:
 *
 *   - name: SUBJECT_ALL_CAPS       # the symbol shown in X-Spam-Status
 *     score: 1.5
 *     header: Subject              # a header (decoded); or `body: true` for the text body
 *     matches: '^[^a-z]{12,}$'     # a regular expression (flags: i by default)
 *   - name: NO_MESSAGE_ID
 *     score: 1
 *     header: Message-ID
 *     absent: true                 # or `exists: true`
 *   - name: BIG_AND_SHOUTY
 *     score: 2
 *     all: [SUBJECT_ALL_CAPS, HAS_URL]   # or `any: [...]`: combines other rules
 *
 * Pure: compiled once at plugin start (a bad expression is a config error naming the rule),
 * evaluated against a message's decoded headers and text.
 */
import { z } from 'zod';

export const RuleSchema = z.strictObject({
  name: z.string().regex(/^[A-Z0-9_]{1,60}$/, 'rule names are upper case letters, digits and _').describe('Symbol shown in X-Spam-Status.'),
  score: z.number().min(-100).max(100).describe('Points added when the rule matches (negative for ham signs).'),
  description: z.string().optional(),
  header: z.string().regex(/^[\x21-\x39\x3b-\x7e]+$/).optional().describe('Header to test (case-insensitive name).'),
  body: z.boolean().optional().describe('Test the decoded text body.'),
  matches: z.string().optional().describe('Regular expression; a header rule matches when any instance matches.'),
  flags: z.string().regex(/^[imsu]*$/).default('i'),
  exists: z.boolean().optional(),
  absent: z.boolean().optional(),
  all: z.array(z.string()).optional().describe('Matches when every named rule matched.'),
  any: z.array(z.string()).optional().describe('Matches when any named rule matched.'),
});
export type RuleDef = z.infer<typeof RuleSchema>;

export interface MessageFacts {
  /** Lower-case header name → decoded values, in order. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly text: string;
}

export interface Hit {
  readonly name: string;
  readonly score: number;
}

interface Compiled {
  readonly def: RuleDef;
  readonly re?: RegExp;
}

export class RuleSet {
  readonly #rules: Compiled[];

  constructor(defs: readonly RuleDef[]) {
    const names = new Set<string>();
    this.#rules = defs.map((def) => {
      if (names.has(def.name)) throw new Error(`rule ${def.name}: defined twice`);
      names.add(def.name);
      const kinds = [def.header !== undefined || def.body ? 1 : 0, def.all ? 1 : 0, def.any ? 1 : 0].reduce((a, b) => a + b, 0);
      if (kinds !== 1) throw new Error(`rule ${def.name}: give exactly one of header/body, all, any`);
      if ((def.header !== undefined || def.body) && def.matches === undefined && !def.exists && !def.absent) {
        throw new Error(`rule ${def.name}: a header or body rule needs matches, exists or absent`);
      }
      if (def.body && (def.exists || def.absent)) throw new Error(`rule ${def.name}: exists/absent apply to headers only`);
      let re: RegExp | undefined;
      if (def.matches !== undefined) {
        try {
          re = new RegExp(def.matches, def.flags);
        } catch (err) {
          throw new Error(`rule ${def.name}: bad regular expression: ${(err as Error).message}`);
        }
      }
      return { def, ...(re ? { re } : {}) };
    });
    for (const { def } of this.#rules) {
      for (const ref of [...(def.all ?? []), ...(def.any ?? [])]) {
        if (!names.has(ref)) throw new Error(`rule ${def.name}: refers to unknown rule ${ref}`);
        const target = this.#rules.find((r) => r.def.name === ref)!;
        if (target.def.all || target.def.any) throw new Error(`rule ${def.name}: combines ${ref}, which is itself a combination (one level only)`);
      }
    }
  }

  get size(): number {
    return this.#rules.length;
  }

  evaluate(m: MessageFacts): Hit[] {
    const matched = new Set<string>();
    const hits: Hit[] = [];
    for (const { def, re } of this.#rules) {
      if (def.all || def.any) continue;
      let ok = false;
      if (def.body) ok = re!.test(m.text);
      else {
        const values = m.headers.get(def.header!.toLowerCase()) ?? [];
        if (def.exists) ok = values.length > 0;
        else if (def.absent) ok = values.length === 0;
        else ok = values.some((v) => re!.test(v));
      }
      if (ok) {
        matched.add(def.name);
        hits.push({ name: def.name, score: def.score });
      }
    }
    for (const { def } of this.#rules) {
      const ok = def.all ? def.all.every((n) => matched.has(n)) : def.any ? def.any.some((n) => matched.has(n)) : false;
      if (ok) hits.push({ name: def.name, score: def.score });
    }
    return hits;
  }
}
