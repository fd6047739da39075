import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConfigOpts,
  ConfigValueError,
  ConfigFilesNotFoundError,
  ConfigDirNotFoundError,
  NoSuchOptError,
  RequiredOptError,
  TemplateSubstitutionError,
  DuplicateOptError,
  parseConfigArgs,
} from './config.js';
import { BoolOpt, IntOpt, ListOpt, MultiStrOpt, StrOpt, DictOpt } from './opts.js';
import { registerCommonOpts, registerDatabaseOpts } from './common-opts.js';

let dir: string;
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
};

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stratus-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function conf(env: Record<string, string> = {}): ConfigOpts {
  const c = new ConfigOpts(env);
  registerCommonOpts(c);
  registerDatabaseOpts(c, 'sqlite:///$state_path/nova.sqlite');
  c.register('filter_scheduler', [new ListOpt('enabled_filters', { default: ['ComputeFilter'] })]);
  c.register('pci', [new MultiStrOpt('alias')]);
  c.register('oslo_messaging_rabbit', [new BoolOpt('rabbit_ha_queues', { default: false })]);
  c.register('api', [new IntOpt('max_limit', { default: 1000, min: 0 })]);
  return c;
}

void describe('ConfigOpts', () => {
  void test('everything has a default with no config file at all', () => {
    const c = conf();
    c.load({});
    assert.equal(c.get('DEFAULT', 'transport_url'), null);
    assert.equal(c.get('DEFAULT', 'debug'), false);
    assert.equal(typeof c.get('DEFAULT', 'host'), 'string');
    assert.ok(path.isAbsolute(c.get<string>('DEFAULT', 'state_path')));
    assert.equal(c.get('database', 'connection'), `sqlite:///${c.get('DEFAULT', 'state_path')}/nova.sqlite`);
    assert.deepEqual(c.get('filter_scheduler', 'enabled_filters'), ['ComputeFilter']);
    assert.deepEqual(c.get('pci', 'alias'), []);
  });

  void test('values from a file are typed; unknown options and groups are ignored', () => {
    const c = conf();
    const f = file(
      'a.conf',
      [
        '[DEFAULT]',
        'transport_url = rabbit://stackrabbit:secret@127.0.0.1:5672/',
        'debug = True',
        'unknown_option = whatever',
        '[Database]',
        'connection = mysql+pymysql://root:secret;x@127.0.0.1/nova?charset=utf8',
        '[filter_scheduler]',
        'enabled_filters = ComputeFilter,',
        '    ImagePropertiesFilter',
        '[not_registered]',
        'x = 1',
      ].join('\n'),
    );
    c.load({ configFiles: [f] });
    assert.equal(c.get('DEFAULT', 'transport_url'), 'rabbit://stackrabbit:secret@127.0.0.1:5672/');
    assert.equal(c.get('DEFAULT', 'debug'), true);
    assert.equal(c.get('database', 'connection'), 'mysql+pymysql://root:secret;x@127.0.0.1/nova?charset=utf8');
    assert.deepEqual(c.get('filter_scheduler', 'enabled_filters'), ['ComputeFilter', 'ImagePropertiesFilter']);
    assert.deepEqual(c.configFiles, [f]);
  });

  void test('later --config-file wins; --config-dir files come after, sorted; multi values accumulate', () => {
    const c = conf();
    const f1 = file('m1.conf', '[DEFAULT]\nhost = one\ndebug = true\n[pci]\nalias = a\nalias = b\n');
    const f2 = file('m2.conf', '[DEFAULT]\nhost = two\n[pci]\nalias = c\n');
    file('d/20-last.conf', '[api]\nmax_limit = 20\n');
    file('d/10-first.conf', '[api]\nmax_limit = 10\n[DEFAULT]\nhost = dir\n');
    file('d/ignored.txt', '[api]\nmax_limit = bogus\n');
    c.load({ configFiles: [f1, f2] });
    assert.equal(c.get('DEFAULT', 'host'), 'two');
    assert.equal(c.get('DEFAULT', 'debug'), true);
    assert.deepEqual(c.get('pci', 'alias'), ['a', 'b', 'c']);
    c.load({ configFiles: [f1, f2], configDirs: [path.join(dir, 'd')] });
    assert.equal(c.get('DEFAULT', 'host'), 'dir');
    assert.equal(c.get('api', 'max_limit'), 20);
    assert.equal(c.configFiles.length, 4);
  });

  void test('set() overrides win over files; clearOverride restores; setDefault changes the default', () => {
    const c = conf();
    c.load({ configFiles: [file('o.conf', '[DEFAULT]\nhost = fromfile\n')] });
    c.set('DEFAULT', 'host', 'override');
    assert.equal(c.get('DEFAULT', 'host'), 'override');
    c.clearOverride('DEFAULT', 'host');
    assert.equal(c.get('DEFAULT', 'host'), 'fromfile');
    c.setDefault('api', 'max_limit', 5);
    assert.equal(c.get('api', 'max_limit'), 5);
    c.set('DEFAULT', 'debug', 'yes'); // strings from CLI flags are parsed by type
    assert.equal(c.get('DEFAULT', 'debug'), true);
    assert.throws(() => c.set('api', 'max_limit', -1), ConfigValueError);
  });

  void test('OS_<GROUP>__<OPTION> environment variables win over files, overrides win over them', () => {
    const c = conf({ OS_DEFAULT__HOST: 'envhost', OS_API__MAX_LIMIT: '7', OS_DATABASE__CONNECTION: 'postgresql://postgres@127.0.0.1/nova' });
    c.load({ configFiles: [file('env.conf', '[DEFAULT]\nhost = fromfile\n[api]\nmax_limit = 9\n')] });
    assert.equal(c.get('DEFAULT', 'host'), 'envhost');
    assert.equal(c.get('api', 'max_limit'), 7);
    assert.equal(c.get('database', 'connection'), 'postgresql://postgres@127.0.0.1/nova');
    c.set('DEFAULT', 'host', 'cli');
    assert.equal(c.get('DEFAULT', 'host'), 'cli');
    assert.throws(() => conf({ OS_API__MAX_LIMIT: 'x' }).load({}), /\[api\] max_limit from environment variable OS_API__MAX_LIMIT/);
  });

  void test('a bad value names the group, option and file', () => {
    const c = conf();
    const f = file('bad.conf', '[api]\nmax_limit = lots\n');
    assert.throws(
      () => c.load({ configFiles: [f] }),
      (e: unknown) => e instanceof ConfigValueError && e.group === 'api' && e.opt === 'max_limit' && e.message.includes(f) && /Invalid integer/.test(e.message),
    );
    const b = conf();
    assert.throws(() => b.load({ configFiles: [file('bad2.conf', '[DEFAULT]\ndebug = maybe\n')] }), /Invalid value for option \[DEFAULT\] debug/);
  });

  void test('an option registered after load is checked when read', () => {
    const c = new ConfigOpts({});
    c.load({ configFiles: [file('late.conf', '[late]\nn = x\nm = 7\n')] });
    c.register('late', [new IntOpt('n'), new IntOpt('m')]);
    assert.equal(c.get('late', 'm'), 7);
    assert.throws(() => c.get('late', 'n'), /\[late\] n/);
  });

  void test('missing files and dirs are errors', () => {
    const c = conf();
    assert.throws(() => c.load({ configFiles: [path.join(dir, 'nope.conf')] }), ConfigFilesNotFoundError);
    assert.throws(() => c.load({ configDirs: [path.join(dir, 'nodir')] }), ConfigDirNotFoundError);
  });

  void test('unknown options and required ones', () => {
    const c = conf();
    assert.throws(() => c.get('DEFAULT', 'nope'), NoSuchOptError);
    assert.throws(() => c.get('nogroup', 'x'), /no such option x in group \[nogroup\]/);
    c.register('keystone_authtoken', [new StrOpt('password', { required: true, secret: true })]);
    assert.throws(() => c.get('keystone_authtoken', 'password'), RequiredOptError);
  });

  void test('deprecated names and groups are still read; the new name wins', () => {
    const c = conf();
    c.register('neutron', [new StrOpt('auth_url', { deprecatedName: 'url', deprecatedGroup: 'DEFAULT' })]);
    c.load({ configFiles: [file('dep.conf', '[DEFAULT]\nsql_connection = sqlite:///old.db\nurl = http://old\n')] });
    assert.equal(c.get('database', 'connection'), 'sqlite:///old.db');
    assert.equal(c.get('neutron', 'auth_url'), 'http://old');
    c.load({ configFiles: [file('dep2.conf', '[DEFAULT]\nsql_connection = sqlite:///old.db\n[database]\nconnection = sqlite:///new.db\n')] });
    assert.equal(c.get('database', 'connection'), 'sqlite:///new.db');
  });

  void test('$var and ${group.var} substitution; $$ is a literal dollar', () => {
    const c = conf();
    c.register('glance_store', [new StrOpt('filesystem_store_datadir', { default: '$state_path/images' }), new StrOpt('pw')]);
    c.load({ configFiles: [file('sub.conf', '[DEFAULT]\nstate_path = /var/lib/stratus\n[glance_store]\npw = pa$$word\n[database]\nconnection = mysql://u@${api.max_limit}/x\n')] });
    assert.equal(c.get('glance_store', 'filesystem_store_datadir'), '/var/lib/stratus/images');
    assert.equal(c.get('glance_store', 'pw'), 'pa$word');
    assert.equal(c.get('database', 'connection'), 'mysql://u@1000/x');
    c.set('glance_store', 'pw', '$nothing');
    assert.throws(() => c.get('glance_store', 'pw'), TemplateSubstitutionError);
    c.register('loop', [new StrOpt('a', { default: '$b' }), new StrOpt('b', { default: '$a' })]);
    assert.throws(() => c.get('loop', 'a'), /circular/);
  });

  void test('registering a different option under an existing name fails; the same one is fine', () => {
    const c = conf();
    c.register('api', [new IntOpt('max_limit', { default: 1000, min: 0 })]);
    assert.throws(() => c.register('api', [new StrOpt('max_limit')]), DuplicateOptError);
    assert.throws(() => c.register('x', [new IntOpt('n', { default: 5, max: 1 })]), ConfigValueError);
  });

  void test('groupValues and DictOpt', () => {
    const c = new ConfigOpts({});
    c.register('ovs', [new DictOpt('bridge_mappings', { default: {} }), new BoolOpt('enabled', { default: true })]);
    c.load({ configFiles: [file('dict.conf', '[ovs]\nbridge_mappings = public:br-ex\n')] });
    assert.deepEqual(c.groupValues('ovs'), { bridge_mappings: { public: 'br-ex' }, enabled: true });
  });
});

void describe('parseConfigArgs', () => {
  void test('repeated --config-file and --config-dir, other args kept in order', () => {
    const a = parseConfigArgs(['--config-file', '/etc/nova/nova.conf', '--debug', '--config-file=/etc/nova/cpu.conf', 'up', '--config-dir', '/etc/nova/nova.conf.d', '--state-dir=/tmp/s', 'x']);
    assert.deepEqual(a.configFiles, ['/etc/nova/nova.conf', '/etc/nova/cpu.conf']);
    assert.deepEqual(a.configDirs, ['/etc/nova/nova.conf.d']);
    assert.deepEqual(a.rest, ['--debug', 'up', '--state-dir=/tmp/s', 'x']);
  });

  void test('no args, and a flag without a value', () => {
    assert.deepEqual(parseConfigArgs([]), { configFiles: [], configDirs: [], rest: [] });
    assert.throws(() => parseConfigArgs(['--config-file']), /needs a value/);
  });
});
