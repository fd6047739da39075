import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StateDir, Snapshots, renderOpenrc, renderCloudsYaml } from './state-dir.js';

const tmp = () => new StateDir(mkdtempSync(path.join(tmpdir(), 'stratus-state-')));

test('secrets are generated once and kept across runs', () => {
  const s = tmp();
  s.ensure();
  const a = s.secrets();
  const b = s.secrets();
  assert.equal(a.adminPassword, b.adminPassword);
  assert.notEqual(a.adminPassword, a.demoPassword);
  assert.equal(s.secrets('given').adminPassword, 'given');
  assert.equal(s.secrets().adminPassword, 'given');
});

test('snapshot save and restore bring back every file of a stopped cloud', () => {
  const s = tmp();
  s.ensure();
  writeFileSync(s.file('keystone.db'), 'v1');
  const snaps = new Snapshots(s);
  snaps.save('base');
  writeFileSync(s.file('keystone.db'), 'v2');
  writeFileSync(s.file('extra.db'), 'new');
  snaps.restore('base');
  assert.equal(readFileSync(s.file('keystone.db'), 'utf8'), 'v1');
  assert.equal(existsSync(s.file('extra.db')), false);
  assert.deepEqual(snaps.list().map((x) => x.name), ['base']);
});

test('snapshots refuse a running cloud and bad names', () => {
  const s = tmp();
  s.ensure();
  s.lock();
  assert.throws(() => new Snapshots(s).save('x'), /running/);
  s.unlock();
  assert.throws(() => new Snapshots(s).save('../x'), /invalid snapshot name/);
  assert.throws(() => new Snapshots(s).restore('missing'), /no snapshot/);
});

test('openrc and clouds.yaml carry the credentials', () => {
  const spec = { authUrl: 'http://127.0.0.1:5000/v3', username: 'admin', password: "p'w", projectName: 'admin', region: 'RegionOne' };
  const rc = renderOpenrc(spec);
  assert.match(rc, /export OS_AUTH_URL=http:\/\/127\.0\.0\.1:5000\/v3/);
  assert.match(rc, /export OS_PASSWORD='p'\\''w'/);
  const y = renderCloudsYaml(spec, { ...spec, username: 'demo', projectName: 'demo' });
  assert.match(y, /^clouds:\n  stratus:\n/);
  assert.match(y, /stratus-demo:/);
});
