/**
 * An oslo.policy-style Enforcer: each service registers its default rules and checks them
 * against a target (what is acted on) and credentials (who acts, from the RequestContext).
 * @module
 */
import { ApiError } from '../errors.js';
import type { RequestContext } from '../context.js';
import { parseRule, type Check } from './parser.js';

export interface RuleDefault {
  name: string;
  checkStr: string;
  description?: string;
}

/** oslo.context `to_policy_values()`: the credentials rules are checked against. */
export type Credentials = Record<string, unknown>;

export function credentialsFromContext(ctx: RequestContext): Credentials {
  return {
    user_id: ctx.userId,
    user_domain_id: ctx.userDomainId,
    project_id: ctx.projectId,
    project_domain_id: ctx.projectDomainId,
    domain_id: ctx.domainId,
    system_scope: ctx.systemScope,
    roles: ctx.roles,
    is_admin: ctx.isAdmin,
    is_admin_project: true,
    service_user_id: ctx.serviceUserId,
    service_roles: ctx.serviceRoles,
  };
}

/** Looks a dotted name up as a flat key first (`target.user.id`), then as a nested path. */
function lookup(obj: Record<string, unknown>, dotted: string): unknown {
  if (dotted in obj) return obj[dotted];
  let cur: unknown = obj;
  for (const seg of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as object))) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Python's str() of a value, since oslo compares strings. */
function pyStr(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return String(v);
}

/** `%(name)s` substitution; undefined when a name is missing (oslo's KeyError -> False). */
function interpolate(match: string, target: Record<string, unknown>): string | undefined {
  let missing = false;
  const out = match.replace(/%\(([^)]+)\)s/g, (_, name: string) => {
    const v = lookup(target, name);
    if (v === undefined) {
      missing = true;
      return '';
    }
    return pyStr(v);
  });
  return missing ? undefined : out;
}

/** A left-hand side given as a Python literal: `'member'`, `True`, `42`. */
function literal(key: string): string | undefined {
  const q = /^'(.*)'$|^"(.*)"$/.exec(key);
  if (q) return q[1] ?? q[2];
  if (key === 'True' || key === 'False' || key === 'None') return key;
  if (/^-?\d+(\.\d+)?$/.test(key)) return key;
  return undefined;
}

export class PolicyNotRegistered extends Error {}

export class Enforcer {
  private readonly rules = new Map<string, Check>();
  private readonly defaults = new Map<string, RuleDefault>();

  /** `overrides`: operator rules by name (a policy file's contents), replacing defaults. */
  constructor(defaults: RuleDefault[] = [], overrides: Record<string, string> = {}) {
    this.registerDefaults(defaults);
    for (const [name, str] of Object.entries(overrides)) this.rules.set(name, parseRule(str));
  }

  registerDefaults(defaults: RuleDefault[]): void {
    for (const d of defaults) {
      this.defaults.set(d.name, d);
      if (!this.rules.has(d.name)) this.rules.set(d.name, parseRule(d.checkStr));
    }
  }

  setRule(name: string, checkStr: string): void {
    this.rules.set(name, parseRule(checkStr));
  }

  listDefaults(): RuleDefault[] {
    return [...this.defaults.values()];
  }

  /** True when the rule allows it. Unknown rule names are a programming error. */
  enforce(ruleName: string, target: Record<string, unknown>, ctx: RequestContext | Credentials): boolean {
    const rule = this.rules.get(ruleName);
    if (!rule) throw new PolicyNotRegistered(`Policy ${ruleName} has not been registered`);
    const creds = isContext(ctx) ? credentialsFromContext(ctx) : ctx;
    return this.check(rule, target, creds, new Set([ruleName]));
  }

  /** Like enforce, but throws a 403 ApiError (Keystone's wording unless `message` given). */
  authorize(ruleName: string, target: Record<string, unknown>, ctx: RequestContext | Credentials, message?: string): void {
    if (!this.enforce(ruleName, target, ctx)) {
      throw new ApiError(403, message ?? `You are not authorized to perform the requested action: ${ruleName}.`, {
        type: 'PolicyNotAuthorized',
        title: 'Forbidden',
      });
    }
  }

  private check(c: Check, target: Record<string, unknown>, creds: Credentials, seen: Set<string>): boolean {
    switch (c.kind) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.check(c.check, target, creds, seen);
      case 'and':
        return c.checks.every((x) => this.check(x, target, creds, seen));
      case 'or':
        return c.checks.some((x) => this.check(x, target, creds, seen));
      case 'rule': {
        const r = this.rules.get(c.name);
        if (!r || seen.has(c.name)) return false; // missing or recursive rules deny
        const next = new Set(seen).add(c.name);
        return this.check(r, target, creds, next);
      }
      case 'role': {
        const m = interpolate(c.match, target);
        if (m === undefined) return false;
        const roles = Array.isArray(creds['roles']) ? (creds['roles'] as unknown[]) : [];
        return roles.some((r) => String(r).toLowerCase() === m.toLowerCase());
      }
      case 'generic': {
        const m = interpolate(c.match, target);
        if (m === undefined) return false;
        const lit = literal(c.key);
        if (lit !== undefined) return lit === m;
        const v = lookup(creds, c.key);
        if (Array.isArray(v)) return v.some((x) => pyStr(x) === m);
        return v !== undefined && pyStr(v) === m;
      }
    }
  }
}

function isContext(x: unknown): x is RequestContext {
  return typeof x === 'object' && x !== null && 'requestId' in x && 'toDict' in x;
}
