/**
 * /os-hypervisors per microversion: integer ids and cpu_info string/object (2.28), paging with
 * hypervisors_links (2.33), uuids + hypervisor_hostname_pattern + with_servers (2.53) and the
 * legacy /search, /servers routes below it, `servers: []` (2.75), the 2.88 detail (no resource
 * fields, uptime) with /statistics and /uptime gone; checked against Tempest's schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

raiseMicroversionCeilingForTests('2.92');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

test('hypervisors per microversion', async () => {
  await withCloud(2, async (cloud) => {
    const admin = await login(cloud, 'admin');
    const demo = await login(cloud, 'demo');
    const { imageRef, networkId } = await bootArgs(admin);
    const b = await admin.call('POST', 'compute', '/servers', { server: { name: 'hv', imageRef, flavorRef: '42', networks: [{ uuid: networkId }] } });
    const server = await waitForStatus(admin, b.body.server.id, 'ACTIVE');
    const busy = server['OS-EXT-SRV-ATTR:host'] as string;
    const idle = busy === 'compute1' ? 'compute2' : 'compute1';
    const get = async (p: string, v: string, schema?: string) => {
      const r = await admin.call('GET', 'compute', p, undefined, mv(v));
      if (schema) assertTempest('hypervisors', schema, v, r);
      return r;
    };

    // ---- 2.1 / 2.28: integer ids, cpu_info string then object ----
    let r = await get('/os-hypervisors', '2.1', 'list_search_hypervisors');
    assert.deepEqual(r.body.hypervisors.map((h: any) => typeof h.id), ['number', 'number']);
    r = await get('/os-hypervisors/detail', '2.27', 'list_hypervisors_detail');
    assert.equal(typeof r.body.hypervisors[0].cpu_info, 'string');
    r = await get('/os-hypervisors/detail', '2.28', 'list_hypervisors_detail');
    assert.equal(r.body.hypervisors[0].cpu_info.arch, 'x86_64');
    const intId = r.body.hypervisors.find((h: any) => h.hypervisor_hostname === busy).id;
    r = await get(`/os-hypervisors/${intId}`, '2.28', 'get_hypervisor');
    assert.equal(r.body.hypervisor.service.host, busy);
    assert.equal((await get('/os-hypervisors/abc', '2.28')).status, 404);
    assert.equal((await demo.call('GET', 'compute', '/os-hypervisors')).status, 403);

    // ---- 2.33 paging ----
    r = await get('/os-hypervisors?limit=1', '2.33', 'list_search_hypervisors');
    assert.equal(r.body.hypervisors.length, 1);
    const next = new URL(r.body.hypervisors_links[0].href);
    assert.equal(next.searchParams.get('marker'), String(r.body.hypervisors[0].id));
    r = await get(`/os-hypervisors${next.search}`, '2.33', 'list_search_hypervisors');
    assert.equal(r.body.hypervisors.length, 1);
    r = await get(`/os-hypervisors?limit=1&marker=${r.body.hypervisors[0].id}`, '2.33', 'list_search_hypervisors');
    assert.deepEqual(r.body.hypervisors, []);
    assert.equal(r.body.hypervisors_links, undefined);
    assert.equal((await get('/os-hypervisors?marker=999', '2.33')).status, 400);

    // ---- below 2.53: /search, /servers, /uptime, /statistics ----
    r = await get(`/os-hypervisors/${busy}/search`, '2.52', 'list_search_hypervisors');
    assert.deepEqual(r.body.hypervisors.map((h: any) => h.hypervisor_hostname), [busy]);
    r = await get('/os-hypervisors/compute/servers', '2.52', 'get_hypervisors_servers');
    const withSrv = r.body.hypervisors.find((h: any) => h.hypervisor_hostname === busy);
    assert.deepEqual(withSrv.servers.map((s: any) => s.uuid), [server.id]);
    assert.equal(withSrv.servers[0].name, server['OS-EXT-SRV-ATTR:instance_name']);
    assert.equal(r.body.hypervisors.find((h: any) => h.hypervisor_hostname === idle).servers, undefined);
    assert.equal((await get('/os-hypervisors/nomatch/search', '2.52')).status, 404);
    r = await get(`/os-hypervisors/${intId}/uptime`, '2.52', 'get_hypervisor_uptime');
    assert.match(r.body.hypervisor.uptime, / up .*load average/);
    r = await get('/os-hypervisors/statistics', '2.52', 'get_hypervisor_statistics');
    assert.equal(r.body.hypervisor_statistics.count, 2);

    // ---- 2.53: uuids, pattern, with_servers ----
    assert.equal((await get(`/os-hypervisors/${busy}/search`, '2.53')).status, 404);
    assert.equal((await get(`/os-hypervisors/${busy}/servers`, '2.53')).status, 404);
    r = await get('/os-hypervisors/detail', '2.53', 'list_hypervisors_detail');
    const hv = r.body.hypervisors.find((h: any) => h.hypervisor_hostname === busy);
    assert.match(hv.id, /^[0-9a-f-]{36}$/);
    assert.match(hv.service.id, /^[0-9a-f-]{36}$/);
    r = await get(`/os-hypervisors?hypervisor_hostname_pattern=${busy}&with_servers=true`, '2.53', 'list_search_hypervisors');
    assert.deepEqual(r.body.hypervisors.map((h: any) => [h.hypervisor_hostname, h.servers.map((s: any) => s.uuid)]), [[busy, [server.id]]]);
    r = await get(`/os-hypervisors/detail?hypervisor_hostname_pattern=${idle}&with_servers=1`, '2.53', 'list_hypervisors_detail');
    assert.equal(r.body.hypervisors[0].servers, undefined, 'no empty list before 2.75');
    r = await get(`/os-hypervisors/detail?hypervisor_hostname_pattern=${idle}&with_servers=1`, '2.75', 'list_hypervisors_detail');
    assert.deepEqual(r.body.hypervisors[0].servers, [], 'an empty list from 2.75');
    assert.equal((await get('/os-hypervisors?hypervisor_hostname_pattern=nomatch', '2.53')).status, 404);
    assert.equal((await get('/os-hypervisors?hypervisor_hostname_pattern=c&limit=1', '2.53')).status, 400);
    assert.equal((await get('/os-hypervisors?with_servers=maybe', '2.53')).status, 400);
    assert.equal((await get('/os-hypervisors?foo=1', '2.53')).status, 400, 'unknown query parameters from 2.53');
    assert.equal((await get('/os-hypervisors?foo=1', '2.52')).status, 200);
    r = await get(`/os-hypervisors/${hv.id}?with_servers=true`, '2.53', 'get_hypervisor');
    assert.deepEqual(r.body.hypervisor.servers.map((s: any) => s.uuid), [server.id]);
    r = await get(`/os-hypervisors?limit=1`, '2.53', 'list_search_hypervisors');
    assert.equal(new URL(r.body.hypervisors_links[0].href).searchParams.get('marker'), r.body.hypervisors[0].id);
    assert.equal((await get(`/os-hypervisors/${intId}`, '2.53')).status, 400, 'an integer id is not a uuid');
    assert.equal((await get('/os-hypervisors/00000000-0000-0000-0000-000000000009', '2.53')).status, 404);
    r = await get(`/os-hypervisors/${hv.id}/uptime`, '2.87', 'get_hypervisor_uptime');
    assert.equal(r.body.hypervisor.id, hv.id);

    // ---- 2.88: resource fields gone, uptime in the detail, statistics and uptime routes gone ----
    r = await get(`/os-hypervisors/${hv.id}`, '2.88');
    assert.equal(r.status, 200);
    const d = r.body.hypervisor;
    for (const f of ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload', 'running_vms', 'disk_available_least', 'cpu_info']) {
      assert.ok(!(f in d), `${f} is gone at 2.88`);
    }
    assert.deepEqual(Object.keys(d).sort(), ['host_ip', 'hypervisor_hostname', 'hypervisor_type', 'hypervisor_version', 'id', 'service', 'state', 'status', 'uptime']);
    assert.match(d.uptime, / up /);
    r = await get('/os-hypervisors/detail', '2.88');
    assert.ok(r.body.hypervisors.every((h: any) => 'uptime' in h && !('vcpus' in h)));
    assert.equal((await get('/os-hypervisors/statistics', '2.88')).status, 404);
    assert.equal((await get(`/os-hypervisors/${hv.id}/uptime`, '2.88')).status, 404);
    // A forced-down compute: state down, no uptime asked of it.
    const svc = (await get(`/os-services?host=${idle}&binary=nova-compute`, '2.53')).body.services[0];
    await admin.call('PUT', 'compute', `/os-services/${svc.id}`, { forced_down: true }, mv('2.53'));
    r = await get(`/os-hypervisors/detail?hypervisor_hostname_pattern=${idle}`, '2.88');
    assert.equal(r.body.hypervisors[0].state, 'down');
    assert.equal(r.body.hypervisors[0].uptime, null);
  });
});
