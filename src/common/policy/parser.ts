/**
 * oslo.policy's rule language, parsed into a small check tree:
 * `@`, `!`, `rule:name`, `role:name`, `kind:%(target.path)s`, `'literal':%(x)s`,
 * `and` / `or` / `not` and parentheses; `or` binds loosest, `not` tightest.
 * @module
 */

export type Check =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'rule'; name: string }
  | { kind: 'role'; match: string }
  | { kind: 'generic'; key: string; match: string }
  | { kind: 'not'; check: Check }
  | { kind: 'and'; checks: Check[] }
  | { kind: 'or'; checks: Check[] };

export class PolicySyntaxError extends Error {}

type Tok = { t: '(' | ')' | 'and' | 'or' | 'not' } | { t: 'check'; c: Check };

function parseAtom(s: string): Check {
  if (s === '@') return { kind: 'true' };
  if (s === '!') return { kind: 'false' };
  const i = s.indexOf(':');
  if (i < 0) throw new PolicySyntaxError(`Malformed policy check: ${s}`);
  const key = s.slice(0, i);
  const match = s.slice(i + 1);
  if (key === 'rule') return { kind: 'rule', name: match };
  if (key === 'role') return { kind: 'role', match };
  if (key === 'http' || key === 'https') throw new PolicySyntaxError(`HTTP checks are not supported: ${s}`);
  return { kind: 'generic', key, match };
}

function tokenize(rule: string): Tok[] {
  const out: Tok[] = [];
  for (let word of rule.trim().split(/\s+/).filter(Boolean)) {
    while (word.startsWith('(')) {
      out.push({ t: '(' });
      word = word.slice(1);
    }
    let closing = 0;
    while (word.endsWith(')')) {
      closing++;
      word = word.slice(0, -1);
    }
    if (word) {
      const lw = word.toLowerCase();
      if (lw === 'and' || lw === 'or' || lw === 'not') out.push({ t: lw });
      else out.push({ t: 'check', c: parseAtom(word) });
    }
    for (let k = 0; k < closing; k++) out.push({ t: ')' });
  }
  return out;
}

/** Parses a check string; the empty string means "always allowed", as in oslo.policy. */
export function parseRule(rule: string): Check {
  const toks = tokenize(rule);
  if (toks.length === 0) return { kind: 'true' };
  let pos = 0;
  const peek = () => toks[pos];
  const orExpr = (): Check => {
    const checks = [andExpr()];
    while (peek()?.t === 'or') {
      pos++;
      checks.push(andExpr());
    }
    return checks.length === 1 ? checks[0]! : { kind: 'or', checks };
  };
  const andExpr = (): Check => {
    const checks = [notExpr()];
    while (peek()?.t === 'and') {
      pos++;
      checks.push(notExpr());
    }
    return checks.length === 1 ? checks[0]! : { kind: 'and', checks };
  };
  const notExpr = (): Check => {
    const tok = peek();
    if (!tok) throw new PolicySyntaxError(`Unexpected end of rule: ${rule}`);
    pos++;
    if (tok.t === 'not') return { kind: 'not', check: notExpr() };
    if (tok.t === '(') {
      const inner = orExpr();
      if (peek()?.t !== ')') throw new PolicySyntaxError(`Unbalanced parentheses in rule: ${rule}`);
      pos++;
      return inner;
    }
    if (tok.t === 'check') return tok.c;
    throw new PolicySyntaxError(`Unexpected '${tok.t}' in rule: ${rule}`);
  };
  const result = orExpr();
  if (pos !== toks.length) throw new PolicySyntaxError(`Trailing tokens in rule: ${rule}`);
  return result;
}
