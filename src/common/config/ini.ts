/**
 * INI parser with the rules of oslo_config/iniparser.py (not the `ini` package's rules):
 * - `#` and `;` start a comment only at the very start of a line;
 * - `key = value` and `key: value` (the first of `=`/`:` splits);
 * - matching surrounding quotes are stripped from the first line of a value;
 * - a line starting with whitespace continues the previous value (joined with `\n`),
 *   a blank line ends it;
 * - a key repeated in a section accumulates (multi-valued options need every value);
 * - section names are kept literally (`[oslo_messaging.rabbit]` is one section).
 * @module
 */

export class IniParseError extends Error {
  constructor(
    readonly reason: string,
    readonly lineno: number,
    readonly line: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}at line ${lineno}, ${reason}: ${JSON.stringify(line)}`);
    this.name = 'IniParseError';
  }
}

/** section name -> key -> every value the key was given, in file order. */
export type IniSections = Map<string, Map<string, string[]>>;

export function parseIni(text: string, file?: string): IniSections {
  const sections: IniSections = new Map();
  let section: Map<string, string[]> | null = null;
  let key: string | null = null;
  let value: string[] = [];
  let lineno = 0;
  const fail = (reason: string, line: string): never => {
    throw new IniParseError(reason, lineno, line, file);
  };

  const flush = (): void => {
    if (key === null) return;
    if (!section) fail('no section', key);
    const values = section!.get(key) ?? [];
    values.push(value.join('\n'));
    section!.set(key, values);
    key = null;
    value = [];
  };

  for (const raw of text.split(/\r?\n/)) {
    lineno += 1;
    const line = raw.trimEnd();
    if (!line) {
      flush(); // a blank line ends a multi-line value
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (key === null) fail('unexpected continuation line', line);
      value.push(line.trimStart());
      continue;
    }
    flush();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) fail('section must end with ]', line);
      if (line.length <= 2) fail('empty section name', line);
      const name = line.slice(1, -1);
      section = sections.get(name) ?? new Map();
      sections.set(name, section);
    } else if (line.startsWith('#') || line.startsWith(';')) {
      // comment
    } else {
      const [k, v] = splitKeyValue(line, fail);
      if (!k) fail('empty key', line);
      if (!section) fail('no section', line);
      key = k;
      value = [v];
    }
  }
  flush();
  return sections;
}

function splitKeyValue(line: string, fail: (reason: string, line: string) => never): [string, string] {
  const colon = line.indexOf(':');
  const equal = line.indexOf('=');
  if (colon < 0 && equal < 0) fail('invalid assignment', line);
  const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
  const key = line.slice(0, at).trim();
  let value = line.slice(at + 1).trim();
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[0] === value[value.length - 1]) {
    value = value.slice(1, -1);
  }
  return [key, value];
}
