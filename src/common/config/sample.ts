/**
 * `etc/<service>.conf.sample` text in the layout of oslo-config-generator: each option with its
 * help text, type, bounds, old names, and its default commented out.
 * @module
 */
import type { ConfigOpts } from './config.js';
import { TYPE_NAMES, type Opt } from './opts.js';

const WIDTH = 70;

function wrap(text: string, width = WIDTH - 2): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let cur = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (cur && cur.length + 1 + word.length > width) {
        lines.push(cur);
        cur = word;
      } else cur = cur ? `${cur} ${word}` : word;
    }
    lines.push(cur);
  }
  return lines;
}

function optLines(opt: Opt<any>): string[] {
  const out: string[] = [];
  const help = `${opt.help ? `${opt.help} ` : ''}(${TYPE_NAMES[opt.type]})`;
  for (const l of wrap(help)) out.push(l ? `# ${l}` : '#');
  for (const note of opt.sampleNotes()) for (const l of wrap(note)) out.push(`# ${l}`);
  if (opt.deprecatedName || opt.deprecatedGroup) {
    out.push('# Deprecated group/name - ' + `[${opt.deprecatedGroup ?? '<same>'}]/${opt.deprecatedName ?? opt.name}`);
  }
  for (const d of opt.formatDefault()) out.push(d === '' ? `#${opt.name} =` : `#${opt.name} = ${d}`);
  return out;
}

/** The sample text for `groups` (default: every registered group, DEFAULT first). */
export function generateSample(conf: ConfigOpts, groups: readonly string[] = conf.registeredGroups()): string {
  const out: string[] = [];
  for (const g of groups) {
    const opts = conf.optsOf(g);
    if (out.length) out.push('');
    out.push(`[${g}]`);
    for (const opt of opts) {
      out.push('', ...optLines(opt));
    }
  }
  return out.join('\n') + '\n';
}
