import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { RuleSchema, RuleSet, type RuleDef } from './rules.ts';

/** Inline rules plus rule files (YAML lists of rules); errors name the file and the rule. */
export async function loadRules(inline: readonly RuleDef[], files: readonly string[]): Promise<RuleSet> {
  const defs: RuleDef[] = [...inline];
  for (const f of files) {
    let raw: unknown;
    try {
      raw = parse(await readFile(f, 'utf8'));
    } catch (err) {
      throw new Error(`spam-score: rule file ${f}: ${(err as Error).message}`);
    }
    const r = z.array(RuleSchema).safeParse(raw ?? []);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(`spam-score: rule file ${f}: ${issue.path.join('.')}: ${issue.message}`);
    }
    defs.push(...r.data);
  }
  try {
    return new RuleSet(defs);
  } catch (err) {
    throw new Error(`spam-score: ${(err as Error).message}`);
  }
}
