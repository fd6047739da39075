/**
 * ConfigOpts: the option registry and value resolution of oslo.config.
 *
 * A value comes from, in order of precedence: an override (`set`, e.g. from a CLI flag), an
 * `OS_<GROUP>__<OPTION>` environment variable, the config files (later files win; `--config-dir` files come after `--config-file` ones, sorted),
 * the option's old names in those files, then the default (`setDefault` or the option's own).
 * Multi-valued options accumulate every value of every file instead. Options present in files
 * but never registered are ignored, as oslo ignores them. String values may reference other
 * options as `$name` (same group, then DEFAULT) or `${group.name}`; `$$` is a literal `$`.
 * @module
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseIni } from './ini.js';
import { OptValueError, StrOpt, type Opt } from './opts.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class NoSuchOptError extends ConfigError {
  constructor(readonly group: string, readonly opt: string) {
    super(`no such option ${opt} in group [${group}]`);
  }
}
export class DuplicateOptError extends ConfigError {}
/** A registered option has a value its type does not accept. */
export class ConfigValueError extends ConfigError {
  constructor(
    readonly group: string,
    readonly opt: string,
    readonly source: string,
    reason: string,
  ) {
    super(`Invalid value for option [${group}] ${opt} from ${source}: ${reason}`);
  }
}
export class RequiredOptError extends ConfigError {
  constructor(readonly group: string, readonly opt: string) {
    super(`value required for option ${opt} in group [${group}]`);
  }
}
export class ConfigFilesNotFoundError extends ConfigError {
  constructor(readonly files: string[]) {
    super(`Failed to find some config files: ${files.join(',')}`);
  }
}
export class ConfigDirNotFoundError extends ConfigError {
  constructor(readonly dir: string) {
    super(`Failed to read config file directory: ${dir}`);
  }
}
export class TemplateSubstitutionError extends ConfigError {}

export interface LoadOptions {
  configFiles?: readonly string[];
  configDirs?: readonly string[];
}

interface ParsedFile {
  file: string;
  /** normalized group -> key -> raw values */
  groups: Map<string, Map<string, string[]>>;
}

/** oslo keeps `DEFAULT` as is and lower-cases every other group name. */
export function normalizeGroup(group: string): string {
  return group === 'DEFAULT' ? group : group.toLowerCase();
}

const key = (group: string, name: string): string => `${normalizeGroup(group)}\0${name}`;

export class ConfigOpts {
  private readonly groups = new Map<string, Map<string, Opt<any>>>();
  private readonly overrides = new Map<string, unknown>();
  private readonly defaults = new Map<string, unknown>();
  private readonly cache = new Map<string, unknown>();
  private files: ParsedFile[] = [];

  /**
   * @param env where `OS_<GROUP>__<OPTION>` variables are read from (oslo.config's environment
   *   source: above config files, below overrides); pass `{}` to ignore the environment.
   */
  constructor(private readonly env: Readonly<Record<string, string | undefined>> = process.env) {
    this.groups.set('DEFAULT', new Map());
  }

  /** Registers options in a group. Registering the same option twice is allowed; a different one with the same name is not. */
  register(group: string, opts: readonly Opt<any>[]): void {
    const g = normalizeGroup(group);
    let reg = this.groups.get(g);
    if (!reg) this.groups.set(g, (reg = new Map()));
    for (const opt of opts) {
      const existing = reg.get(opt.name);
      if (existing && existing !== opt && !sameOpt(existing, opt)) {
        throw new DuplicateOptError(`duplicate option: ${opt.name} in group [${g}]`);
      }
      reg.set(opt.name, opt);
      if (opt.default !== null) validateTyped(opt, opt.default, g, 'default');
    }
    this.cache.clear();
  }

  /** Registered group names (DEFAULT first). */
  registeredGroups(): string[] {
    return [...this.groups.keys()];
  }

  /** Options of a group, in registration order. */
  optsOf(group: string): Opt<any>[] {
    return [...(this.groups.get(normalizeGroup(group))?.values() ?? [])];
  }

  has(group: string, name: string): boolean {
    return this.groups.get(normalizeGroup(group))?.has(name) ?? false;
  }

  /** Files loaded, in the order they were read. */
  get configFiles(): string[] {
    return this.files.map((f) => f.file);
  }

  get<T = unknown>(group: string, name: string): T {
    const k = key(group, name);
    if (this.cache.has(k)) return this.cache.get(k) as T;
    const v = this.resolve(normalizeGroup(group), name, new Set());
    this.cache.set(k, v);
    return v as T;
  }

  /** Every registered option of a group, resolved. */
  groupValues(group: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const opt of this.optsOf(group)) out[opt.name] = this.get(group, opt.name);
    return out;
  }

  /** Overrides an option (wins over files); `undefined` clears the override. */
  set(group: string, name: string, value: unknown): void {
    const g = normalizeGroup(group);
    const opt = this.opt(g, name);
    if (value === undefined) this.overrides.delete(key(g, name));
    else {
      const v = typeof value === 'string' && opt.type !== 'string' ? parseRaw(opt, [value], g, 'override') : value;
      if (v !== null) validateTyped(opt, v, g, 'override');
      this.overrides.set(key(g, name), v);
    }
    this.cache.clear();
  }

  clearOverride(group: string, name: string): void {
    this.set(group, name, undefined);
  }

  /** Replaces the option's default (files and overrides still win). */
  setDefault(group: string, name: string, value: unknown): void {
    const g = normalizeGroup(group);
    const opt = this.opt(g, name);
    if (value !== null) validateTyped(opt, value, g, 'default');
    this.defaults.set(key(g, name), value);
    this.cache.clear();
  }

  /**
   * Reads the config files, then the `*.conf` files of each config dir (sorted), replacing what
   * an earlier load read, and checks every registered option's value.
   */
  load(opts: LoadOptions = {}): void {
    const files = [...(opts.configFiles ?? [])];
    const missing = files.filter((f) => !isFile(f));
    if (missing.length) throw new ConfigFilesNotFoundError(missing);
    for (const dir of opts.configDirs ?? []) {
      let entries: string[];
      try {
        if (!statSync(dir).isDirectory()) throw new Error('not a directory');
        entries = readdirSync(dir);
      } catch {
        throw new ConfigDirNotFoundError(dir);
      }
      for (const e of entries.filter((e) => e.endsWith('.conf')).sort()) {
        const f = path.join(dir, e);
        if (isFile(f)) files.push(f);
      }
    }
    this.files = files.map((file) => ({ file, groups: normalizeSections(parseIni(readFileSync(file, 'utf8'), file)) }));
    this.cache.clear();
    this.validate();
  }

  /** Resolves every registered option, so a bad value fails at start-up rather than at first use. */
  validate(): void {
    for (const [g, reg] of this.groups) for (const name of reg.keys()) this.get(g, name);
  }

  private opt(g: string, name: string): Opt<any> {
    const opt = this.groups.get(g)?.get(name);
    if (!opt) throw new NoSuchOptError(g, name);
    return opt;
  }

  private resolve(g: string, name: string, seen: Set<string>): unknown {
    const opt = this.opt(g, name);
    const k = key(g, name);
    if (seen.has(k)) throw new TemplateSubstitutionError(`circular reference to [${g}] ${name}`);
    seen.add(k);
    try {
      let v: unknown;
      const found = this.overrides.has(k) ? null : (this.fromEnv(opt, g) ?? this.fromFiles(opt, g));
      if (found) {
        const raws = found.raws.map((r) => this.substitute(r, g, seen));
        v = parseRaw(opt, raws, g, found.source);
      } else {
        v = this.overrides.has(k) ? this.overrides.get(k) : this.defaults.has(k) ? this.defaults.get(k) : opt.default;
        // string defaults and overrides may reference other options too
        if (opt instanceof StrOpt && typeof v === 'string') v = this.substitute(v, g, seen);
      }
      if (v === null && opt.required) throw new RequiredOptError(g, name);
      return v;
    } finally {
      seen.delete(k);
    }
  }

  /** Names an option can be found under in a file: its own, then its deprecated one. */
  private namesOf(opt: Opt<any>, g: string): Array<[string, string]> {
    const names: Array<[string, string]> = [[g, opt.name]];
    if (opt.deprecatedName || opt.deprecatedGroup) {
      names.push([normalizeGroup(opt.deprecatedGroup ?? g), opt.deprecatedName ?? opt.name]);
    }
    return names;
  }

  private fromEnv(opt: Opt<any>, g: string): { raws: string[]; source: string } | null {
    const name = `OS_${g.toUpperCase()}__${opt.name.toUpperCase()}`;
    const v = this.env[name];
    return v === undefined ? null : { raws: [v], source: `environment variable ${name}` };
  }

  private fromFiles(opt: Opt<any>, g: string): { raws: string[]; source: string } | null {
    const names = this.namesOf(opt, g);
    if (opt.multi) {
      const raws: string[] = [];
      const sources: string[] = [];
      for (const f of this.files) {
        for (const [ng, nn] of names) {
          const vals = f.groups.get(ng)?.get(nn);
          if (vals) {
            raws.push(...vals);
            sources.push(f.file);
          }
        }
      }
      return sources.length ? { raws, source: [...new Set(sources)].join(', ') } : null;
    }
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i]!;
      for (const [ng, nn] of names) {
        const vals = f.groups.get(ng)?.get(nn);
        if (vals) return { raws: vals, source: f.file };
      }
    }
    return null;
  }

  private substitute(s: string, g: string, seen: Set<string>): string {
    if (!s.includes('$')) return s;
    return s.replace(/\$(\$|\{([A-Za-z0-9_.-]+)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, dollar: string, braced?: string, bare?: string) => {
      if (dollar === '$') return '$';
      const ref = (braced ?? bare)!;
      let rg: string;
      let rn: string;
      const dot = ref.lastIndexOf('.');
      if (braced && dot > 0) {
        rg = normalizeGroup(ref.slice(0, dot));
        rn = ref.slice(dot + 1);
      } else if (this.groups.get(g)?.has(ref)) {
        rg = g;
        rn = ref;
      } else {
        rg = 'DEFAULT';
        rn = ref;
      }
      if (!this.groups.get(rg)?.has(rn)) {
        throw new TemplateSubstitutionError(`cannot substitute ${whole}: no option ${rn} in group [${rg}] (write $$ for a literal $)`);
      }
      const v = this.resolve(rg, rn, seen);
      if (v === null) return '';
      return Array.isArray(v) ? v.join(',') : String(v);
    });
  }
}

function sameOpt(a: Opt<any>, b: Opt<any>): boolean {
  return a.constructor === b.constructor && JSON.stringify(a) === JSON.stringify(b);
}

function isFile(f: string): boolean {
  try {
    return statSync(f).isFile();
  } catch {
    return false;
  }
}

function normalizeSections(sections: Map<string, Map<string, string[]>>): ParsedFile['groups'] {
  const out: ParsedFile['groups'] = new Map();
  for (const [name, keys] of sections) {
    const g = normalizeGroup(name);
    const target = out.get(g) ?? new Map<string, string[]>();
    for (const [k, vals] of keys) target.set(k, [...(target.get(k) ?? []), ...vals]);
    out.set(g, target);
  }
  return out;
}

function parseRaw(opt: Opt<any>, raws: string[], g: string, source: string): unknown {
  try {
    return opt.parse(raws);
  } catch (e) {
    if (e instanceof OptValueError) throw new ConfigValueError(g, opt.name, source, e.message);
    throw e;
  }
}

function validateTyped(opt: Opt<any>, v: unknown, g: string, source: string): void {
  try {
    opt.check(v);
  } catch (e) {
    if (e instanceof OptValueError) throw new ConfigValueError(g, opt.name, source, e.message);
    throw e;
  }
}

export interface ConfigArgs {
  configFiles: string[];
  configDirs: string[];
  /** Every other argument, in order, for the caller's own parser. */
  rest: string[];
}

/** Picks `--config-file F` (repeatable) and `--config-dir D` (repeatable) out of argv. */
export function parseConfigArgs(argv: readonly string[]): ConfigArgs {
  const { tokens } = parseArgs({
    args: [...argv],
    options: {
      'config-file': { type: 'string', multiple: true },
      'config-dir': { type: 'string', multiple: true },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: ConfigArgs = { configFiles: [], configDirs: [], rest: [] };
  for (const t of tokens) {
    if (t.kind === 'option' && (t.name === 'config-file' || t.name === 'config-dir')) {
      if (t.value === undefined) throw new ConfigError(`option --${t.name} needs a value`);
      (t.name === 'config-file' ? out.configFiles : out.configDirs).push(t.value);
    } else if (t.kind === 'option') {
      out.rest.push(argv[t.index]!);
    } else if (t.kind === 'positional') {
      out.rest.push(t.value);
    } else {
      out.rest.push('--');
    }
  }
  return out;
}
