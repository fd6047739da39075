/**
 * GET /servers/{id}/diagnostics on a whole cloud: admin only, the free-form blob below 2.48 and
 * the standardized view from 2.48 (Tempest's schemas), values from the fake hypervisor's
 * domain, 409 once the guest is not running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';
import { assertTempest } from './tempest-schema.js';

const at = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

test('server diagnostics: policy, 2.1 blob, 2.48 view, power state conflicts', { timeout: 90_000 }, async () => {
  raiseMicroversionCeilingForTests('2.92');
  await withCloud(1, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const boot = await demo.call('POST', 'compute', '/servers', { server: { name: 'diag', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(boot.status, 202, JSON.stringify(boot.body));
    const id = boot.body.server.id as string;
    await waitForStatus(demo, id, 'ACTIVE');
    const flavor = (await demo.call('GET', 'compute', '/flavors/1')).body.flavor;
    const port = (await demo.call('GET', 'network', `/v2.0/ports?device_id=${id}`)).body.ports[0];

    // Admin only, after the server lookup (an unknown server is 404 for everyone).
    const denied = await demo.call('GET', 'compute', `/servers/${id}/diagnostics`, undefined, at('2.48'));
    assert.equal(denied.status, 403);
    assert.match(denied.body.forbidden.message, /os_compute_api:os-server-diagnostics/);
    assert.equal((await admin.call('GET', 'compute', '/servers/00000000-0000-4000-8000-000000000000/diagnostics')).status, 404);

    // Below 2.48: the hypervisor's own counters.
    const old = await admin.call('GET', 'compute', `/servers/${id}/diagnostics`, undefined, at('2.47'));
    assertTempest('v2_1/servers.show_server_diagnostics', old);
    assert.equal(old.body.memory, flavor.ram * 1024);
    assert.equal(typeof old.body.cpu0_time, 'number');
    assert.equal(old.body.vda_read, 0);
    assert.ok(`tap${port.id.slice(0, 11)}_rx` in old.body, JSON.stringify(old.body));

    // 2.48: the standardized view, values from the domain.
    const d = await admin.call('GET', 'compute', `/servers/${id}/diagnostics`, undefined, at('2.48'));
    assertTempest('v2_48/servers.show_server_diagnostics', d);
    assert.equal(d.body.state, 'running');
    assert.equal(d.body.driver, 'libvirt');
    assert.equal(d.body.num_cpus, flavor.vcpus);
    assert.equal(d.body.cpu_details.length, flavor.vcpus);
    assert.deepEqual(d.body.memory_details, { maximum: flavor.ram, used: flavor.ram });
    assert.equal(d.body.num_nics, 1);
    assert.equal(d.body.nic_details[0].mac_address, port.mac_address);
    assert.equal(d.body.num_disks, 1);
    assert.equal(d.body.config_drive, false);
    assert.ok(d.body.uptime >= 0);
    assertTempest('v2_89/servers.show_server_diagnostics', await admin.call('GET', 'compute', `/servers/${id}/diagnostics`, undefined, at('2.89')));

    // A stopped guest: 409 naming the power state, at both versions.
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { 'os-stop': null })).status, 202);
    await waitForStatus(demo, id, 'SHUTOFF');
    for (const v of ['2.1', '2.48']) {
      const r = await admin.call('GET', 'compute', `/servers/${id}/diagnostics`, undefined, at(v));
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.conflictingRequest.message, `Cannot 'get_diagnostics' instance ${id} while it is in power state shutdown`);
    }
  });
});
