/**
 * Query-string grammars of placement (placement/util.py and lib.py): `resources`, `required`
 * (with forbidden `!` and any-of `in:`), `member_of`, `in_tree`, and the request groups of
 * GET /allocation_candidates.
 * @module
 */
import { isUuidLike } from '../../common/http/validation.js';
import type { RequestGroup, RequestWideParams } from '../candidates/engine.js';
import { ErrorCodes, httpError } from './util.js';
import type { APIVersion } from '../../common/http/microversion.js';

export function normalizeResources(qs: string): Map<string, number> {
  if (qs.trim() === '') {
    throw httpError(400, 'Badly formed resources parameter. Expected resources query string parameter in form: '
      + '?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.');
  }
  const out = new Map<string, number>();
  for (const rt of qs.split(',')) {
    const parts = rt.split(':');
    if (parts.length !== 2) {
      throw httpError(400, `Badly formed resources parameter. Expected resources query string parameter in form: `
        + `?resources=VCPU:2,MEMORY_MB:1024. Got: ${rt}.`);
    }
    const [name, amountStr] = parts as [string, string];
    if (!/^\s*[-+]?\d+\s*$/.test(amountStr)) {
      throw httpError(400, `Requested resource ${name} expected positive integer amount. Got: ${amountStr}.`);
    }
    const amount = parseInt(amountStr, 10);
    if (amount < 1) throw httpError(400, `Requested resource ${name} requires amount >= 1. Got: ${amount}.`);
    out.set(name, amount);
  }
  return out;
}

export interface TraitsExpr { required: Set<string>[]; forbidden: Set<string> }

export function normalizeTraitsValue(val: string, allowForbidden: boolean, allowAny: boolean): TraitsExpr {
  if (val.startsWith('in:')) {
    if (!allowAny) {
      throw httpError(400, `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: ${val}`);
    }
    const any = new Set(val.slice(3).split(',').map((s) => s.trim()));
    if ([...any].some((t) => !t)) {
      throw httpError(400, `Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ${val}`);
    }
    if ([...any].some((t) => t.startsWith('!'))) {
      throw httpError(400, `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: ${val}`);
    }
    return { required: [any], forbidden: new Set() };
  }
  const all = val.split(',').map((s) => s.trim());
  const forbidden = new Set(all.filter((t) => t.startsWith('!')).map((t) => t.replace(/^!+/, '')));
  if ([...forbidden, ...all].some((t) => !t)) {
    const form = allowForbidden ? 'HW_CPU_X86_VMX,!CUSTOM_MAGIC' : 'HW_CPU_X86_VMX,CUSTOM_MAGIC';
    throw httpError(400, `Invalid query string parameters: Expected 'required' parameter value of the form: ${form}. Got an empty trait in: ${val}`);
  }
  if (forbidden.size && !allowForbidden) {
    throw httpError(400, `Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${val}`);
  }
  const required = [...new Set(all.filter((t) => !t.startsWith('!')))].map((t) => new Set([t]));
  return { required, forbidden };
}

/** All `required<suffix>` values: the last one before 1.39, every one from 1.39. */
export function normalizeTraitsParams(values: string[], v: APIVersion): TraitsExpr {
  const allowAny = v.atLeast('1.39');
  const use = allowAny ? values : values.slice(-1);
  const out: TraitsExpr = { required: [], forbidden: new Set() };
  for (const val of use) {
    const e = normalizeTraitsValue(val, v.atLeast('1.22'), allowAny);
    out.required.push(...e.required);
    for (const f of e.forbidden) out.forbidden.add(f);
  }
  return out;
}

export interface AggsExpr { required: Set<string>[]; forbidden: Set<string> }

export function normalizeMemberOfValue(value: string): AggsExpr {
  if (value.includes(',') && !(value.startsWith('in:') || value.startsWith('!in:'))) {
    throw httpError(400, `Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: ${value}`);
  }
  let required = new Set<string>();
  let forbidden = new Set<string>();
  if (value.startsWith('!in:')) forbidden = new Set(value.slice(4).split(','));
  else if (value.startsWith('!')) forbidden = new Set([value.slice(1)]);
  else if (value.startsWith('in:')) required = new Set(value.slice(3).split(','));
  else required = new Set([value]);
  for (const agg of [...required, ...forbidden]) {
    if (!isUuidLike(agg)) {
      throw httpError(400, `Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${agg}`);
    }
  }
  return { required: required.size ? [required] : [], forbidden };
}

export function normalizeMemberOfParams(values: string[], suffix: string, v: APIVersion): AggsExpr {
  if (!v.atLeast('1.24') && values.length > 1) throw httpError(400, `Multiple member_of${suffix} parameters are not supported`);
  const out: AggsExpr = { required: [], forbidden: new Set() };
  for (const value of values) {
    const e = normalizeMemberOfValue(value);
    out.required.push(...e.required);
    if (e.forbidden.size) {
      if (!v.atLeast('1.32')) throw httpError(400, `Forbidden member_of${suffix} parameters are not supported in the specified microversion`);
      for (const f of e.forbidden) out.forbidden.add(f);
    }
  }
  return out;
}

export function normalizeInTree(value: string): string {
  const ret = value.trim();
  if (!isUuidLike(ret)) {
    throw httpError(400, `Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: ${value}`);
  }
  return ret;
}

const GROUP_KEY = /^(resources|required|member_of|in_tree)([1-9][0-9]*)?$/;
const GROUP_KEY_1_33 = /^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})?$/;

/** lib.RequestWideParams.from_request */
export function requestWideParams(q: Record<string, string[]>, v: APIVersion): Omit<RequestWideParams, 'nestedAware'> {
  const out: Omit<RequestWideParams, 'nestedAware'> = { sameSubtrees: [] };
  if (q['limit']?.length) out.limit = parseInt(q['limit'][0]!, 10);
  if (q['group_policy']?.length) out.groupPolicy = q['group_policy'][0] as 'none' | 'isolate';
  const rootRequired = q['root_required'];
  if (rootRequired?.length) {
    if (rootRequired.length > 1) {
      throw httpError(400, "Query parameter 'root_required' may be specified only once.", ErrorCodes.ILLEGAL_DUPLICATE_QUERYPARAM);
    }
    const e = normalizeTraitsValue(rootRequired[0]!, true, false);
    const required = new Set(e.required.map((s) => [...s][0]!));
    const conflicts = [...e.forbidden].filter((t) => required.has(t));
    if (conflicts.length) {
      throw httpError(400, `Conflicting required and forbidden traits found in root_required: ${conflicts.join(', ')}`, ErrorCodes.QUERYPARAM_BAD_VALUE);
    }
    out.rootRequired = required;
    out.rootForbidden = e.forbidden;
  }
  for (const val of q['same_subtree'] ?? []) {
    const suffixes = new Set(val.split(',').map((s) => s.trim()));
    if (suffixes.has('')) {
      throw httpError(400, 'Empty string (unsuffixed group) can not be specified in `same_subtree` ', ErrorCodes.QUERYPARAM_BAD_VALUE);
    }
    out.sameSubtrees.push(suffixes);
  }
  void v;
  return out;
}

/** lib.RequestGroup.dict_from_request */
export function requestGroups(q: Record<string, string[]>, v: APIVersion, sameSubtrees: Set<string>[]): RequestGroup[] {
  const pattern = v.atLeast('1.33') ? GROUP_KEY_1_33 : GROUP_KEY;
  const bySuffix = new Map<string, RequestGroup>();
  for (const [key, values] of Object.entries(q)) {
    const m = pattern.exec(key);
    if (!m) continue;
    const prefix = m[1]!;
    const suffix = m[2] ?? '';
    let g = bySuffix.get(suffix);
    if (!g) {
      g = { suffix, useSameProvider: suffix !== '', resources: new Map(), requiredTraits: [], forbiddenTraits: new Set(), memberOf: [], forbiddenAggs: new Set() };
      bySuffix.set(suffix, g);
    }
    const val = values[values.length - 1]!;
    if (prefix === 'resources') g.resources = normalizeResources(val);
    else if (prefix === 'required') {
      const t = normalizeTraitsParams(values, v);
      g.requiredTraits = t.required;
      g.forbiddenTraits = t.forbidden;
    } else if (prefix === 'member_of') {
      const a = normalizeMemberOfParams(values, suffix, v);
      g.memberOf = a.required;
      g.forbiddenAggs = a.forbidden;
    } else {
      g.inTree = normalizeInTree(val);
    }
  }
  const groups = [...bySuffix.values()];
  if (v.atLeast('1.36')) {
    const resourceless = groups.filter((g) => g.resources.size === 0).map((g) => g.suffix);
    const subtreeSuffixes = new Set(sameSubtrees.flatMap((s) => [...s]));
    if (resourceless.length === groups.length) {
      throw httpError(400, 'There must be at least one resources or resources[$S] parameter.', ErrorCodes.QUERYPARAM_MISSING_VALUE);
    }
    const bad = resourceless.filter((s) => !subtreeSuffixes.has(s));
    if (bad.length) {
      throw httpError(400, `Resourceless suffixed group request should be specified in \`same_subtree\` query param: bad group(s) - ${pyList(bad)}.`,
        ErrorCodes.QUERYPARAM_BAD_VALUE);
    }
    const notReal = [...subtreeSuffixes].filter((s) => !bySuffix.has(s));
    if (notReal.length) {
      throw httpError(400, `Real suffixes should be specified in \`same_subtree\`: ${pyList(notReal)} not found in ${pyList([...bySuffix.keys()])}.`,
        ErrorCodes.QUERYPARAM_BAD_VALUE);
    }
  } else {
    const orphanTraits = groups.filter((g) => g.requiredTraits.length && !g.resources.size).map((g) => `required${g.suffix}`);
    if (orphanTraits.length) {
      throw httpError(400, `All traits parameters must be associated with resources.  Found the following orphaned traits keys: ${orphanTraits.join(', ')}`);
    }
    const orphanAggs = groups.filter((g) => !g.resources.size && (g.memberOf.length || g.forbiddenAggs.size)).map((g) => `member_of${g.suffix}`);
    if (orphanAggs.length) {
      throw httpError(400, `All member_of parameters must be associated with resources. Found the following orphaned member_of keys: ${orphanAggs.join(', ')}`);
    }
    if (!groups.every((g) => g.resources.size)) throw httpError(400, 'All request groups must specify resources.');
    if (!groups.length) throw httpError(400, 'At least one request group (`resources` or `resources{$S}`) is required.');
  }
  if (v.atLeast('1.22')) {
    const conflicts: string[] = [];
    for (const g of groups) {
      for (const any of g.requiredTraits) {
        if ([...any].every((t) => g.forbiddenTraits.has(t))) conflicts.push(`required${g.suffix}: (${[...any].sort().join(', ')})`);
      }
    }
    if (conflicts.length) {
      throw httpError(400, `Conflicting required and forbidden traits found in the following traits keys: ${conflicts.sort().join(', ')}`);
    }
  }
  return groups;
}

function pyList(items: string[]): string {
  return `[${items.map((s) => `'${s}'`).join(', ')}]`;
}
