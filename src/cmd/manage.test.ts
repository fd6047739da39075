import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { manage } from './manage.js';
import { StateDir } from './state-dir.js';

const setup = () => {
  const stateDir = new StateDir(mkdtempSync(path.join(tmpdir(), 'stratus-manage-')));
  const lines: string[] = [];
  return { stateDir, lines, o: { stateDir, configFiles: [] as string[], out: (l: string) => lines.push(l) } };
};

test('keystone db sync applies migrations once, then reports up to date', async () => {
  const { stateDir, lines, o } = setup();
  assert.equal(await manage('keystone', ['db', 'sync'], o), 0);
  assert.match(lines[0]!, /^keystone: applied /);
  assert.equal(await manage('keystone', ['db', 'sync'], o), 0);
  assert.equal(lines[1], 'keystone: up to date');
  assert.equal(await manage('keystone', ['db', 'version'], o), 0);
  assert.doesNotMatch(lines[2]!, /pending/);
  assert.ok(readdirSync(stateDir.root).includes('keystone.db'));
});

test('db sync honours [database] connection from --config-file', async () => {
  const { stateDir, lines, o } = setup();
  const db = path.join(stateDir.root, 'elsewhere.sqlite');
  const conf = path.join(stateDir.root, 'keystone.conf');
  writeFileSync(conf, `[database]\nconnection = sqlite:///${db}\n`);
  assert.equal(await manage('keystone', ['db', 'sync'], { ...o, configFiles: [conf] }), 0);
  assert.match(lines[0]!, /applied/);
  assert.ok(readdirSync(stateDir.root).includes('elsewhere.sqlite'));
});

test('fernet_setup creates the staged and primary keys; fernet_rotate adds one', async () => {
  const { stateDir, o } = setup();
  assert.equal(await manage('keystone', ['fernet_setup'], o), 0);
  assert.deepEqual(readdirSync(stateDir.file('fernet-keys')).sort(), ['0', '1']);
  assert.equal(await manage('keystone', ['fernet_rotate'], o), 0);
  assert.deepEqual(readdirSync(stateDir.file('fernet-keys')).sort(), ['0', '1', '2']);
});

test('unknown services and commands exit 2 with a message', async () => {
  const { lines, o } = setup();
  assert.equal(await manage('swift', ['db', 'sync'], o), 2);
  assert.match(lines[0]!, /unknown service 'swift'/);
  assert.equal(await manage('keystone', ['bogus'], o), 2);
});

test('nova: api_db sync, db sync of both cells, then cell_v2 map_cell0 / create_cell / list_cells', async () => {
  const { lines, o } = setup();
  assert.equal(await manage('nova', ['api_db', 'sync'], o), 0);
  assert.match(lines[0]!, /^nova_api: applied/);
  assert.equal(await manage('nova', ['db', 'sync'], o), 0);
  assert.match(lines[1]!, /^nova_cell0: applied/);
  assert.match(lines[2]!, /^nova_cell1: applied/);
  assert.equal(await manage('nova', ['cell_v2', 'map_cell0'], o), 0);
  assert.equal(await manage('nova', ['cell_v2', 'create_cell', '--name', 'cell1'], o), 0);
  lines.length = 0;
  assert.equal(await manage('nova', ['cell_v2', 'list_cells'], o), 0);
  const names = lines.map((l) => l.split('\t')[0]).sort();
  assert.deepEqual(names, ['cell0', 'cell1']);
  lines.length = 0;
  assert.equal(await manage('nova', ['cell_v2', 'discover_hosts'], o), 0);
  assert.deepEqual(lines, ['no unmapped hosts']);
});

test('every service database syncs', async () => {
  for (const svc of ['placement', 'glance', 'neutron']) {
    const { lines, o } = setup();
    assert.equal(await manage(svc, ['db', 'sync'], o), 0, svc);
    assert.match(lines[0]!, new RegExp(`^${svc}: applied`));
  }
});
