/**
 * Neutron on SQLite, MariaDB and PostgreSQL: the same migrations and API flows on each engine,
 * and ports racing for the last addresses of a subnet through a real connection pool, where
 * only the (subnet_id, ip_address) key keeps two ports from sharing an address; and many first
 * requests of a new project racing to create its one `default` security group.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines } from '../../conformance/db/engines.js';
import { openDatabase } from '../../../src/common/db/index.js';
import { setLogDestination } from '../../../src/common/log.js';
import { createTransport } from '../../../src/common/rpc/index.js';
import { createNeutronServer } from '../../../src/network/service.js';
import { testValidator } from '../../functional/network/helpers.js';

setLogDestination('/dev/null');
const all = await engines();
after(async () => {
  for (const e of all) await e.cleanup();
});

for (const engine of all) {
  void describe(`neutron on ${engine.name}`, { skip: engine.skip }, () => {
    void test('API flows, racing port creates, racing default security groups', async () => {
      const database = await openDatabase(await engine.create(), { service: 'neutron', poolSize: 8 });
      const bus = await createTransport('inproc://');
      const server = await createNeutronServer({ database, bus, host: 'n1', validator: testValidator });
      try {
        const call = async (who: string, method: string, url: string, body?: unknown) => {
          const r = await server.app.inject({
            method: method as 'GET', url, headers: { 'x-auth-token': who, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
          });
          return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
        };
        const net = (await call('demo', 'POST', '/v2.0/networks', { network: { name: 'eng' } })).body.network;
        assert.equal(net.admin_state_up, true);
        const sub = await call('demo', 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.3.0.0/27', enable_dhcp: false } });
        assert.equal(sub.status, 201, JSON.stringify(sub.body));
        const v6 = await call('demo', 'POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:5::/64', ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' } });
        assert.equal(v6.status, 201, JSON.stringify(v6.body));

        // 29 usable IPv4 addresses besides the gateway; 40 creates race for them
        const results = await Promise.all(Array.from({ length: 40 }, () => call('demo', 'POST', '/v2.0/ports', { port: { network_id: net.id } })));
        const ok = results.filter((r) => r.status === 201);
        assert.equal(ok.length, 29, JSON.stringify(results.find((r) => r.status !== 201 && r.status !== 409)?.body ?? ''));
        const v4 = ok.map((r) => r.body.port.fixed_ips.find((f: any) => !f.ip_address.includes(':')).ip_address);
        assert.equal(new Set(v4).size, 29, 'no address given twice');
        for (const r of results.filter((x) => x.status !== 201)) assert.equal(r.body.NeutronError.type, 'IpAddressGenerationFailure');

        // a new project's first requests all race to make its default group: exactly one exists
        const lists = await Promise.all(Array.from({ length: 8 }, () => call('alt', 'GET', '/v2.0/security-groups?name=default')));
        for (const l of lists) assert.equal(l.status, 200);
        const groups = (await call('alt', 'GET', '/v2.0/security-groups')).body.security_groups.filter((g: any) => g.name === 'default');
        assert.equal(groups.length, 1);
        assert.equal(groups[0].security_group_rules.length, 4);

        const list = await call('demo', 'GET', `/v2.0/ports?network_id=${net.id}&limit=10&sort_key=mac_address&sort_dir=desc`);
        assert.equal(list.body.ports.length, 10);
        const macs = list.body.ports.map((p: any) => p.mac_address);
        assert.deepEqual([...macs].sort().reverse(), macs);
        assert.equal((await call('demo', 'DELETE', `/v2.0/networks/${net.id}`)).status, 409);
      } finally {
        await server.stop();
        await bus.close();
        await database.close();
      }
    });
  });
}
