import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigOpts } from './config.js';
import { registerCommonOpts, registerDatabaseOpts } from './common-opts.js';
import { IntOpt, ListOpt, MultiStrOpt, StrOpt } from './opts.js';
import { generateSample } from './sample.js';
import { parseIni } from './ini.js';

void test('generateSample writes help, type, bounds, deprecations and commented defaults', () => {
  const c = new ConfigOpts({});
  registerCommonOpts(c);
  registerDatabaseOpts(c, 'sqlite:///$state_path/nova.sqlite');
  c.register('api', [
    new IntOpt('max_limit', { default: 1000, min: 0, help: 'The maximum number of items returned in a single response from a collection resource.' }),
    new ListOpt('filters', { default: ['A', 'B'] }),
    new MultiStrOpt('alias', { help: 'PCI alias.' }),
    new StrOpt('driver', { default: 'fake', choices: ['fake', 'qemu'] }),
  ]);
  const text = generateSample(c, ['DEFAULT', 'database', 'api']);
  assert.match(text, /^\[DEFAULT\]\n/);
  assert.match(text, /# If set to true, the logging level will be set to DEBUG instead of\n# INFO\. \(boolean value\)\n#debug = false\n/);
  assert.match(text, /#host = <hostname>\n/);
  assert.match(text, /#transport_url = <None>\n/);
  assert.match(text, /# Deprecated group\/name - \[DEFAULT\]\/sql_connection\n#connection = sqlite:\/\/\/\$state_path\/nova\.sqlite\n/);
  assert.match(text, /# Minimum value: 0\n#max_limit = 1000\n/);
  assert.match(text, /#filters = A,B\n/);
  assert.match(text, /# PCI alias\. \(multi valued\)\n#alias =\n/);
  assert.match(text, /# Possible values: fake, qemu\n#driver = fake\n/);
  // help is wrapped at 70 columns (a single word longer than that stays whole)
  for (const line of text.split('\n')) assert.ok(line.length <= 70 || !line.slice(2).includes(' '), `long help line: ${line}`);
  // every option is commented out: the sample parses to sections with no values
  const parsed = parseIni(text);
  assert.deepEqual([...parsed.keys()], ['DEFAULT', 'database', 'api']);
  for (const keys of parsed.values()) assert.equal(keys.size, 0);
});
