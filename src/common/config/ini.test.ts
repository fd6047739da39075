import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseIni, IniParseError } from './ini.js';

const get = (s: ReturnType<typeof parseIni>, sec: string, key: string) => s.get(sec)?.get(key);

void describe('parseIni (oslo iniparser rules)', () => {
  void test('key = value and key: value; the first separator splits', () => {
    const s = parseIni('[DEFAULT]\na = 1\nb: 2\nc = x:y\nd: u=v\n');
    assert.deepEqual(get(s, 'DEFAULT', 'a'), ['1']);
    assert.deepEqual(get(s, 'DEFAULT', 'b'), ['2']);
    assert.deepEqual(get(s, 'DEFAULT', 'c'), ['x:y']);
    assert.deepEqual(get(s, 'DEFAULT', 'd'), ['u=v']);
  });

  void test('comments only at line start; ; and # inside values are kept', () => {
    const s = parseIni('# comment\n; another\n[database]\nconnection = mysql+pymysql://nova:secret;x@db/nova # not a comment\n');
    assert.deepEqual(get(s, 'database', 'connection'), ['mysql+pymysql://nova:secret;x@db/nova # not a comment']);
    assert.equal(s.get('database')!.size, 1);
  });

  void test('matching surrounding quotes are stripped, unmatched ones kept', () => {
    const s = parseIni(`[g]\na = "quoted value"\nb = 'single'\nc = "half\nd = ""\n`);
    assert.deepEqual(get(s, 'g', 'a'), ['quoted value']);
    assert.deepEqual(get(s, 'g', 'b'), ['single']);
    assert.deepEqual(get(s, 'g', 'c'), ['"half']);
    assert.deepEqual(get(s, 'g', 'd'), ['']);
  });

  void test('continuation lines join with newlines; a blank line ends the value', () => {
    const s = parseIni('[filter_scheduler]\nenabled_filters = ComputeFilter,\n    ImagePropertiesFilter\n\tAvailabilityZoneFilter\n\nother = 1\n');
    assert.deepEqual(get(s, 'filter_scheduler', 'enabled_filters'), ['ComputeFilter,\nImagePropertiesFilter\nAvailabilityZoneFilter']);
    assert.deepEqual(get(s, 'filter_scheduler', 'other'), ['1']);
  });

  void test('repeated keys accumulate; repeated sections merge', () => {
    const s = parseIni('[pci]\nalias = {"name": "a"}\nalias = {"name": "b"}\n[other]\nx=1\n[pci]\nalias = c\n');
    assert.deepEqual(get(s, 'pci', 'alias'), ['{"name": "a"}', '{"name": "b"}', 'c']);
  });

  void test('section names are literal', () => {
    const s = parseIni('[oslo_messaging.rabbit]\nrabbit_ha_queues = true\n');
    assert.deepEqual([...s.keys()], ['oslo_messaging.rabbit']);
    assert.deepEqual(get(s, 'oslo_messaging.rabbit', 'rabbit_ha_queues'), ['true']);
  });

  void test('empty value and CRLF line endings', () => {
    const s = parseIni('[g]\r\nempty =\r\nx = 1\r\n');
    assert.deepEqual(get(s, 'g', 'empty'), ['']);
    assert.deepEqual(get(s, 'g', 'x'), ['1']);
  });

  void test('errors carry the line number', () => {
    assert.throws(() => parseIni('a = 1\n'), (e: unknown) => e instanceof IniParseError && e.lineno === 1 && /no section/.test(e.message));
    assert.throws(() => parseIni('[g]\nnovalue\n'), /line 2, invalid assignment/);
    assert.throws(() => parseIni('[g\n'), /section must end with \]/);
    assert.throws(() => parseIni('[]\n'), /empty section name/);
    assert.throws(() => parseIni('[g]\n  cont\n'), /unexpected continuation/);
    assert.throws(() => parseIni('[g]\n= v\n'), /empty key/);
    assert.throws(() => parseIni('[g]\nnovalue\n', '/etc/x.conf'), /\/etc\/x\.conf: at line 2/);
  });
});
