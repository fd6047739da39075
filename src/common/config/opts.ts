/**
 * Typed options in the manner of oslo.config: each option knows its type, how to parse the
 * string a config file gives it, its default, help text (for the sample file), allowed choices,
 * and the old names it may still be found under.
 * @module
 */

export type OptType = 'string' | 'integer' | 'float' | 'boolean' | 'list' | 'multi' | 'dict' | 'port';

export interface OptInit<T> {
  default?: T | null;
  help?: string;
  /** Allowed values (parsed form). */
  choices?: readonly T[];
  /** Old name of the option (in `deprecatedGroup`, or the same group). */
  deprecatedName?: string;
  /** Old group of the option (with `deprecatedName`, or the same name). */
  deprecatedGroup?: string;
  /** Hidden in logs and dumps (passwords, keys). */
  secret?: boolean;
  /** What the sample file shows instead of the real default (e.g. `<hostname>`). */
  sampleDefault?: string;
  /** Value must be set (non-null) when read. */
  required?: boolean;
}

/** Thrown when a string cannot be converted to an option's type. */
export class OptValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptValueError';
  }
}

export abstract class Opt<T = unknown> {
  abstract readonly type: OptType;
  /** Multi-valued options accumulate every value of every file instead of taking the last. */
  readonly multi: boolean = false;
  readonly default: T | null;
  readonly help: string;
  readonly choices?: readonly T[];
  readonly deprecatedName?: string;
  readonly deprecatedGroup?: string;
  readonly secret: boolean;
  readonly sampleDefault?: string;
  readonly required: boolean;

  constructor(
    readonly name: string,
    init: OptInit<T> = {},
  ) {
    this.default = init.default === undefined ? null : init.default;
    this.help = init.help ?? '';
    this.choices = init.choices;
    this.deprecatedName = init.deprecatedName;
    this.deprecatedGroup = init.deprecatedGroup;
    this.secret = init.secret ?? false;
    this.sampleDefault = init.sampleDefault;
    this.required = init.required ?? false;
  }

  /** Converts one raw string (as found in a file) to the option's type. */
  protected abstract convert(raw: string): T;

  /** Parses the file value(s) of this option; non-multi options take the last one given. */
  parse(raws: readonly string[]): T {
    const v = this.convert(raws[raws.length - 1]!);
    this.check(v);
    return v;
  }

  /** Validates a value already in typed form (defaults, overrides). */
  check(v: T): void {
    if (v !== null && !this.typeOk(v)) throw new OptValueError(`Expected ${TYPE_NAMES[this.type]}, found ${JSON.stringify(v)}`);
    if (this.choices && v !== null && !this.choices.some((c) => equal(c, v))) {
      throw new OptValueError(`Valid values are [${this.choices.map((c) => String(c)).join(', ')}], but found ${JSON.stringify(v)}`);
    }
  }

  /** Whether a value given in typed form (default, override) has the right JS type. */
  protected typeOk(v: unknown): boolean {
    switch (this.type) {
      case 'string':
        return typeof v === 'string';
      case 'integer':
      case 'port':
        return Number.isInteger(v);
      case 'float':
        return typeof v === 'number' && Number.isFinite(v);
      case 'boolean':
        return typeof v === 'boolean';
      case 'list':
      case 'multi':
        return Array.isArray(v) && v.every((x) => typeof x === 'string');
      case 'dict':
        return typeof v === 'object' && v !== null && !Array.isArray(v);
    }
  }

  /** The default as the sample file writes it. */
  formatDefault(): string[] {
    if (this.sampleDefault !== undefined) return [this.sampleDefault];
    if (this.default === null) return ['<None>'];
    return [this.formatValue(this.default)];
  }

  protected formatValue(v: T): string {
    return String(v);
  }

  /** Extra lines for the sample file (bounds, allowed values). */
  sampleNotes(): string[] {
    return this.choices ? [`Possible values: ${this.choices.map((c) => this.formatValue(c)).join(', ')}`] : [];
  }
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class StrOpt extends Opt<string> {
  readonly type = 'string' as const;
  protected convert(raw: string): string {
    return raw;
  }
}

export interface NumberInit<T> extends OptInit<T> {
  min?: number;
  max?: number;
}

abstract class NumberOpt extends Opt<number> {
  readonly min?: number;
  readonly max?: number;
  constructor(name: string, init: NumberInit<number> = {}) {
    super(name, init);
    this.min = init.min;
    this.max = init.max;
  }
  override check(v: number): void {
    super.check(v);
    if (v === null) return;
    if (this.min !== undefined && v < this.min) throw new OptValueError(`Should be greater than or equal to ${this.min}, but found ${v}`);
    if (this.max !== undefined && v > this.max) throw new OptValueError(`Should be less than or equal to ${this.max}, but found ${v}`);
  }
  override sampleNotes(): string[] {
    const notes = super.sampleNotes();
    if (this.min !== undefined) notes.push(`Minimum value: ${this.min}`);
    if (this.max !== undefined) notes.push(`Maximum value: ${this.max}`);
    return notes;
  }
}

export class IntOpt extends NumberOpt {
  readonly type: OptType = 'integer';
  protected convert(raw: string): number {
    const s = raw.trim();
    if (!/^[+-]?\d+$/.test(s)) throw new OptValueError(`Invalid integer value ${JSON.stringify(raw)}`);
    return Number.parseInt(s, 10);
  }
}

/** A TCP/UDP port: an integer in 0..65535 (narrower bounds allowed). */
export class PortOpt extends IntOpt {
  override readonly type: OptType = 'port';
  constructor(name: string, init: NumberInit<number> = {}) {
    super(name, { ...init, min: Math.max(init.min ?? 0, 0), max: Math.min(init.max ?? 65535, 65535) });
  }
}

export class FloatOpt extends NumberOpt {
  readonly type = 'float' as const;
  protected convert(raw: string): number {
    const s = raw.trim();
    const v = Number(s);
    if (s === '' || !Number.isFinite(v)) throw new OptValueError(`Invalid float value ${JSON.stringify(raw)}`);
    return v;
  }
}

// oslo_config.types.Boolean
const TRUE_VALUES = ['true', '1', 'on', 'yes'];
const FALSE_VALUES = ['false', '0', 'off', 'no'];

export function parseBool(raw: string): boolean {
  const s = raw.trim().toLowerCase();
  if (TRUE_VALUES.includes(s)) return true;
  if (FALSE_VALUES.includes(s)) return false;
  throw new OptValueError(`Unexpected boolean value ${JSON.stringify(raw)}`);
}

export class BoolOpt extends Opt<boolean> {
  readonly type = 'boolean' as const;
  protected convert(raw: string): boolean {
    return parseBool(raw);
  }
}

/** Splits on commas outside double quotes, trims items and drops empty ones. */
function splitList(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of raw) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw new OptValueError(`Unterminated quote in list value ${JSON.stringify(raw)}`);
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

export class ListOpt extends Opt<string[]> {
  readonly type = 'list' as const;
  /** `choices` constrain each item. */
  constructor(name: string, init: Omit<OptInit<string[]>, 'choices'> & { choices?: readonly string[] } = {}) {
    super(name, init as OptInit<string[]>);
  }
  protected convert(raw: string): string[] {
    return splitList(raw);
  }
  protected override formatValue(v: string[] | string): string {
    return Array.isArray(v) ? v.join(',') : v;
  }
  override check(v: string[]): void {
    if (v !== null && !this.typeOk(v)) throw new OptValueError(`Expected a list of strings, found ${JSON.stringify(v)}`);
    // choices constrain each item of a list
    if (this.choices && v) {
      const allowed = (this.choices as unknown as string[]).map(String);
      for (const item of v) {
        if (!allowed.includes(item)) throw new OptValueError(`Valid values are [${allowed.join(', ')}], but found ${JSON.stringify(item)}`);
      }
    }
  }
}

/** A string option that may be given many times; every value of every file is kept. */
export class MultiStrOpt extends Opt<string[]> {
  readonly type = 'multi' as const;
  override readonly multi = true;
  constructor(name: string, init: OptInit<string[]> = {}) {
    super(name, { ...init, default: init.default ?? [] });
  }
  protected convert(raw: string): string[] {
    return [raw];
  }
  override parse(raws: readonly string[]): string[] {
    return [...raws];
  }
  override check(v: string[]): void {
    if (v !== null && !this.typeOk(v)) throw new OptValueError(`Expected a list of strings, found ${JSON.stringify(v)}`);
  }
  override formatDefault(): string[] {
    if (this.sampleDefault !== undefined) return [this.sampleDefault];
    const d = this.default ?? [];
    return d.length ? d : [''];
  }
}

/** `key1:value1,key2:value2` */
export class DictOpt extends Opt<Record<string, string>> {
  readonly type = 'dict' as const;
  protected convert(raw: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const item of splitList(raw)) {
      const at = item.indexOf(':');
      if (at < 0) throw new OptValueError(`Dict item ${JSON.stringify(item)} is not of the form key:value`);
      const k = item.slice(0, at).trim();
      if (Object.hasOwn(out, k)) throw new OptValueError(`Duplicate key ${JSON.stringify(k)} in dict value`);
      out[k] = item.slice(at + 1).trim();
    }
    return out;
  }
  protected override formatValue(v: Record<string, string>): string {
    return Object.entries(v)
      .map(([k, val]) => `${k}:${val}`)
      .join(',');
  }
}

/** Human name of the type, as oslo's sample generator writes it. */
export const TYPE_NAMES: Record<OptType, string> = {
  string: 'string value',
  integer: 'integer value',
  float: 'floating point value',
  boolean: 'boolean value',
  list: 'list value',
  multi: 'multi valued',
  dict: 'dict value',
  port: 'port value',
};
