import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, ADMIN_PASSWORD, type Harness } from './helpers.js';

let h: Harness;
let admin: string;
const ids: Record<string, string> = {};

before(async () => {
  h = await startIdentity();
  admin = await h.login('admin', ADMIN_PASSWORD, 'admin');
  const post = async (path: string, key: string, body: Record<string, unknown>) => {
    const r = await h.request('POST', path, { token: admin, body: { [key]: body } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body[key].id as string;
  };
  ids['p1'] = await post('/v3/projects', 'project', { name: 'ra-p1' });
  ids['p2'] = await post('/v3/projects', 'project', { name: 'ra-p2' });
  ids['u1'] = await post('/v3/users', 'user', { name: 'ra-u1', password: 'pw' });
  ids['u2'] = await post('/v3/users', 'user', { name: 'ra-u2', password: 'pw' });
  ids['g1'] = await post('/v3/groups', 'group', { name: 'ra-g1' });
  for (const r of ['admin', 'member', 'reader']) ids[r] = (await h.request('GET', `/v3/roles?name=${r}`, { token: admin })).body.roles[0].id;
  assert.equal((await h.request('PUT', `/v3/groups/${ids['g1']}/users/${ids['u2']}`, { token: admin })).status, 204);
  const grant = (p: string) => h.request('PUT', p, { token: admin }).then((r) => assert.equal(r.status, 204, p));
  await grant(`/v3/projects/${ids['p1']}/users/${ids['u1']}/roles/${ids['member']}`);
  await grant(`/v3/projects/${ids['p2']}/groups/${ids['g1']}/roles/${ids['admin']}`);
});
after(() => h.close());

const list = async (qs: string) => {
  const r = await h.request('GET', `/v3/role_assignments?${qs}`, { token: admin });
  assert.equal(r.status, 200);
  return r.body.role_assignments as any[];
};

void describe('role assignments', () => {
  void test('direct assignments of a user and of a group', async () => {
    const u1 = await list(`user.id=${ids['u1']}`);
    assert.equal(u1.length, 1);
    assert.deepEqual(u1[0].role, { id: ids['member'] });
    assert.deepEqual(u1[0].scope, { project: { id: ids['p1'] } });
    assert.equal(u1[0].links.assignment, `http://127.0.0.1:5000/v3/projects/${ids['p1']}/users/${ids['u1']}/roles/${ids['member']}`);
    const g = await list(`group.id=${ids['g1']}`);
    assert.equal(g.length, 1);
    assert.equal(g[0].group.id, ids['g1']);
    assert.deepEqual(await list(`user.id=${ids['u2']}`), []);
  });

  void test('effective: groups expanded to members, implied roles added, membership link', async () => {
    const eff = await list(`user.id=${ids['u2']}&effective`);
    const roles = eff.map((a) => a.role.id).sort();
    assert.deepEqual(roles, [ids['admin'], ids['member'], ids['reader']].sort());
    for (const a of eff) {
      assert.equal(a.user.id, ids['u2']);
      assert.equal(a.group, undefined);
      assert.deepEqual(a.scope, { project: { id: ids['p2'] } });
      assert.equal(a.links.membership, `http://127.0.0.1:5000/v3/groups/${ids['g1']}/users/${ids['u2']}`);
    }
    const onP1 = await list(`scope.project.id=${ids['p1']}&effective`);
    assert.deepEqual(onP1.map((a) => a.role.id).sort(), [ids['member'], ids['reader']].sort());
  });

  void test('include_names adds names and domains', async () => {
    const [a] = await list(`user.id=${ids['u1']}&include_names`);
    assert.deepEqual(a.role, { id: ids['member'], name: 'member' });
    assert.deepEqual(a.user, { id: ids['u1'], name: 'ra-u1', domain: { id: 'default', name: 'Default' } });
    assert.deepEqual(a.scope.project, { id: ids['p1'], name: 'ra-p1', domain: { id: 'default', name: 'Default' } });
  });

  void test('role filter and group+effective rejected', async () => {
    const admins = await list(`role.id=${ids['admin']}&scope.project.id=${ids['p2']}`);
    assert.equal(admins.length, 1);
    const bad = await h.request('GET', `/v3/role_assignments?group.id=${ids['g1']}&effective`, { token: admin });
    assert.equal(bad.status, 400);
  });

  void test('inherited domain grants apply to the projects of the domain', async () => {
    const r = await h.request('PUT', `/v3/OS-INHERIT/domains/default/users/${ids['u1']}/roles/${ids['reader']}/inherited_to_projects`, { token: admin });
    assert.equal(r.status, 204);
    const direct = await list(`user.id=${ids['u1']}&scope.OS-INHERIT:inherited_to=projects`);
    assert.equal(direct.length, 1);
    assert.equal(direct[0].scope['OS-INHERIT:inherited_to'], 'projects');
    const eff = await list(`user.id=${ids['u1']}&effective&scope.project.id=${ids['p2']}`);
    assert.deepEqual(eff.map((a) => a.role.id), [ids['reader']]);
    const projects = await h.request('GET', `/v3/users/${ids['u1']}/projects`, { token: admin });
    assert.ok(projects.body.projects.some((p: any) => p.id === ids['p2']));
    await h.request('DELETE', `/v3/OS-INHERIT/domains/default/users/${ids['u1']}/roles/${ids['reader']}/inherited_to_projects`, { token: admin });
  });

  void test('grant check and list on a project; 404 for missing grants, users and roles', async () => {
    const base = `/v3/projects/${ids['p1']}/users/${ids['u1']}/roles`;
    assert.equal((await h.request('HEAD', `${base}/${ids['member']}`, { token: admin })).status, 204);
    assert.equal((await h.request('HEAD', `${base}/${ids['admin']}`, { token: admin })).status, 404);
    const listed = await h.request('GET', base, { token: admin });
    assert.deepEqual(listed.body.roles.map((r: any) => r.name), ['member']);
    assert.equal((await h.request('PUT', `/v3/projects/${ids['p1']}/users/nouser/roles/${ids['member']}`, { token: admin })).status, 404);
    const missing = await h.request('PUT', `${base}/norole`, { token: admin });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error: { code: 404, message: 'Could not find role: norole.', title: 'Not Found' } });
  });

  void test('inherited project grants reach the subtree; domain roles are never effective', async () => {
    const leaf = (await h.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'ra-leaf', parent_id: ids['p1'] } } })).body.project;
    const base = `/v3/OS-INHERIT/projects/${ids['p1']}/users/${ids['u2']}/roles/${ids['reader']}/inherited_to_projects`;
    assert.equal((await h.request('PUT', base, { token: admin })).status, 204);
    const eff = await list(`user.id=${ids['u2']}&scope.project.id=${leaf.id}&effective`);
    assert.deepEqual(eff.map((a) => a.role.id), [ids['reader']]);
    const tok = await h.login('ra-u2', 'pw', 'ra-leaf');
    assert.ok(tok);
    const sub = await list(`scope.project.id=${ids['p1']}&include_subtree=true&effective`);
    assert.ok(sub.some((a) => a.scope.project.id === leaf.id), 'include_subtree reaches the leaf');
    assert.ok(sub.some((a) => a.scope.project.id === ids['p1']));
    assert.equal((await h.request('DELETE', base, { token: admin })).status, 204);
    assert.deepEqual(await list(`user.id=${ids['u2']}&scope.project.id=${leaf.id}&effective`), []);

    const dr = (await h.request('POST', '/v3/roles', { token: admin, body: { role: { name: 'dom-role', domain_id: 'default' } } })).body.role;
    assert.equal(dr.domain_id, 'default');
    await h.request('PUT', `/v3/projects/${leaf.id}/users/${ids['u1']}/roles/${dr.id}`, { token: admin });
    assert.deepEqual(await list(`user.id=${ids['u1']}&scope.project.id=${leaf.id}&effective`), []);
    // a domain role may imply a global one, which then is effective; not the other way round
    assert.equal((await h.request('PUT', `/v3/roles/${dr.id}/implies/${ids['reader']}`, { token: admin })).status, 201);
    assert.deepEqual((await list(`user.id=${ids['u1']}&scope.project.id=${leaf.id}&effective`)).map((a) => a.role.id), [ids['reader']]);
    assert.equal((await h.request('PUT', `/v3/roles/${ids['reader']}/implies/${dr.id}`, { token: admin })).status, 403);
    assert.equal((await h.request('DELETE', `/v3/roles/${dr.id}`, { token: admin })).status, 204);
  });

  void test('implied roles API', async () => {
    const r = await h.request('GET', `/v3/roles/${ids['admin']}/implies`, { token: admin });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.role_inference.implies.map((x: any) => x.name), ['member']);
    const all = await h.request('GET', '/v3/role_inferences', { token: admin });
    assert.equal(all.body.role_inferences.length, 2);
  });

  void test('a member sees only their own projects, not another user\'s', async () => {
    const tok = await h.login('ra-u1', 'pw', 'ra-p1');
    const mine = await h.request('GET', `/v3/users/${ids['u1']}/projects`, { token: tok });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body.projects.map((p: any) => p.name), ['ra-p1']);
    assert.equal((await h.request('GET', `/v3/users/${ids['u2']}/projects`, { token: tok })).status, 403);
    assert.equal((await h.request('GET', '/v3/role_assignments', { token: tok })).status, 403);
    assert.equal((await h.request('GET', '/v3/domains/default', { token: tok })).status, 200);
  });
});
