/**
 * Operator policy overrides, as oslo.policy reads them: `[oslo_policy] policy_file`
 * (policy.yaml or policy.json), each entry `"rule name": "check string"`. The YAML read here is
 * the flat mapping such files are; anything richer is refused with the line number.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StrOpt } from '../config/opts.js';
import type { Opt } from '../config/opts.js';

export const policyOpts: Opt<any>[] = [
  new StrOpt('policy_file', { default: 'policy.yaml', help: 'The relative or absolute path of a file that maps roles to permissions for a given service.' }),
];

export class PolicyFileError extends Error {}

function unquote(v: string, file: string, line: number): string {
  const t = v.trim();
  if (t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")))) {
    const inner = t.slice(1, -1);
    return t.startsWith("'") ? inner.replace(/''/g, "'") : inner.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  if (/^[|>]/.test(t)) throw new PolicyFileError(`${file}:${line}: block scalars are not supported`);
  return t;
}

/** Parses a policy file's text (JSON or flat YAML) into rule name -> check string. */
export function parsePolicyText(text: string, file = 'policy'): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const v = JSON.parse(trimmed) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
  }
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$/, '');
    if (!line.trim() || line.trim().startsWith('#') || line.trim() === '---') return;
    if (/^\s/.test(line)) throw new PolicyFileError(`${file}:${i + 1}: nested values are not supported`);
    // the key may be quoted and contain ':' (rule names do)
    const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:]+?)\s*:\s?(.*)$/.exec(line);
    if (!m) throw new PolicyFileError(`${file}:${i + 1}: expected "name": "rule"`);
    out[unquote(m[1]!, file, i + 1)] = unquote(m[2] ?? '', file, i + 1);
  });
  return out;
}

/** Reads the policy file if it exists (a missing default file is normal); relative to `configDir`. */
export function loadPolicyFile(policyFile: string, configDir = process.cwd()): Record<string, string> {
  const p = path.isAbsolute(policyFile) ? policyFile : path.join(configDir, policyFile);
  if (!existsSync(p)) return {};
  return parsePolicyText(readFileSync(p, 'utf8'), p);
}
