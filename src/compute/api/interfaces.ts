/**
 * /servers/{id}/os-interface: list the server's ports, attach (a call to the compute, which
 * creates or binds the port) and detach (a cast) (nova/api/openstack/compute/attach_interfaces.py).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, conflict, notFound } from '../../common/errors.js';
import { checkInstanceState, type ComputeApiFacade } from '../api.js';
import { InstanceAction } from '../objects/instance-action.js';
import { mapErrors, mv } from './common.js';

export function registerInterfaces(app: FastifyInstance, compute: ComputeApiFacade): void {
  const view = (req: FastifyRequest, p: Record<string, any>) => ({
    port_state: p['status'], fixed_ips: (p['fixed_ips'] ?? []).map((f: any) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
    port_id: p['id'], net_id: p['network_id'], mac_addr: p['mac_address'], ...(mv(req, '2.70') ? { tag: null } : {}),
  });
  const neutron = () => {
    if (!compute.neutron) throw new ApiError(404, 'The resource could not be found.');
    return compute.neutron;
  };
  app.get<{ Params: { id: string } }>('/servers/:id/os-interface', async (req) => {
    await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id));
    const ports = await neutron().listPorts(req.ctx, { device_id: req.params.id }, true);
    return { interfaceAttachments: ports.map((p) => view(req, p)) };
  });
  app.get<{ Params: { id: string; port: string } }>('/servers/:id/os-interface/:port', async (req) => {
    await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id));
    const p = await neutron().getPort(req.ctx, req.params.port);
    if (!p || p['device_id'] !== req.params.id) throw notFound(`Instance ${req.params.id} is not attached.`, { type: 'PortNotFound' });
    return { interfaceAttachment: view(req, p) };
  });
  app.post<{ Params: { id: string } }>('/servers/:id/os-interface', async (req) => {
    const body = req.body as { interfaceAttachment?: Record<string, any> } | null;
    const ia = body?.interfaceAttachment ?? {};
    if (body && typeof body !== 'object') throw badRequest('Malformed request body');
    const netId: string | null = ia['net_id'] ?? null;
    const portId: string | null = ia['port_id'] ?? null;
    if (netId && portId) throw badRequest('Must not input both network_id and port_id');
    const ip: string | null = ia['fixed_ips']?.[0]?.ip_address ?? null;
    if (ip && !netId) throw badRequest('Must input network_id when request IP address');
    const loc = await mapErrors('attach_interface', req.params.id, () => compute.get(req.ctx, req.params.id));
    if (!loc.cell || loc.cell.isCell0 || !loc.instance.host) throw conflict(`Cannot 'attach_interface' instance ${req.params.id} while it is in vm_state ${loc.instance.vm_state}`);
    compute.checkLocked(req.ctx, loc.instance);
    await mapErrors('attach_interface', req.params.id, async () => checkInstanceState(loc.instance, 'attach_interface', ['active', 'paused', 'stopped'], [null], true));
    let net = netId;
    if (!net && !portId) {
      const nets = await neutron().listNetworks(req.ctx, { tenant_id: loc.instance.project_id });
      if (nets.length !== 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
      net = nets[0]!['id'];
    }
    if (portId) {
      const p = await neutron().getPort(req.ctx, portId);
      if (!p) throw notFound(`Port ${portId} could not be found.`, { type: 'PortNotFound' });
      if (p['device_id']) throw conflict(`Port ${portId} is still in use.`, { type: 'PortInUse' });
    }
    await InstanceAction.actionStart(loc.cell.backend, req.ctx, req.params.id, 'attach_interface');
    const rpc = await compute.computeRpcFor(loc.cell);
    const vif = await mapErrors('attach_interface', req.params.id, () => rpc.attachInterface(req.ctx, loc.instance, { network_id: net, port_id: portId, requested_ip: ip, tag: ia['tag'] ?? null }));
    const port = await neutron().getPort(req.ctx, String(vif['id']));
    return { interfaceAttachment: port ? view(req, port) : {} };
  });
  app.delete<{ Params: { id: string; port: string } }>('/servers/:id/os-interface/:port', async (req, reply) => {
    const loc = await mapErrors('detach_interface', req.params.id, () => compute.get(req.ctx, req.params.id));
    if (!loc.cell || !loc.instance.host) throw conflict(`Cannot 'detach_interface' instance ${req.params.id} while it is in vm_state ${loc.instance.vm_state}`);
    compute.checkLocked(req.ctx, loc.instance);
    if (!loc.instance.networkInfo.some((v) => v.id === req.params.port)) throw notFound(`Port ${req.params.port} is not attached`, { type: 'PortNotFound' });
    await InstanceAction.actionStart(loc.cell.backend, req.ctx, req.params.id, 'detach_interface');
    const rpc = await compute.computeRpcFor(loc.cell);
    await rpc.detachInterface(req.ctx, loc.instance, req.params.port);
    reply.code(202);
    return reply.send();
  });
}
