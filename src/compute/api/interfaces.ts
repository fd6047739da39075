/**
 * /servers/{id}/os-interface (nova/api/openstack/compute/attach_interfaces.py): list the
 * server's ports, attach (a call to the compute, which creates or binds the port) and detach
 * (a cast). A device tag (2.49) is kept, as in Nova, on the port's `virtual_interfaces` row of
 * the cell DB and shown from 2.70.
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest, conflict, notFound } from '../../common/errors.js';
import { validateBody } from '../../common/http/validation.js';
import { checkInstanceState, type ComputeApiFacade } from '../api.js';
import type { Cell } from '../cells.js';
import { InstanceAction } from '../objects/instance-action.js';
import { mapErrors, mv } from './common.js';

const tag = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
const uuid = { type: 'string', format: 'uuid' };
const createSchema = (extra: Record<string, unknown>) => ({
  type: 'object',
  properties: {
    interfaceAttachment: {
      type: 'object',
      properties: {
        net_id: uuid, port_id: uuid,
        fixed_ips: {
          type: 'array', minItems: 1, maxItems: 1,
          items: { type: 'object', properties: { ip_address: { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] } }, required: ['ip_address'], additionalProperties: false },
        },
        ...extra,
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
});
export const CREATE_INTERFACE_SCHEMAS = [
  { schema: createSchema({}), max: '2.48' },
  { schema: createSchema({ tag }), min: '2.49' },
];

/** Device tags of an instance's ports (VirtualInterfaceList.get_by_instance_uuid). */
async function tagsByPort(cell: Cell | null, instanceUuid: string): Promise<Map<string, string | null>> {
  if (!cell) return new Map();
  const rows = await cell.db.db.selectFrom('virtual_interfaces').select(['uuid', 'tag'])
    .where('instance_uuid', '=', instanceUuid).where('deleted', '=', 0).execute();
  return new Map(rows.map((r) => [String(r['uuid']), (r['tag'] as string | null) ?? null]));
}

/** The VirtualInterface record of an attached port (made by nova-api once the compute attached it). */
async function recordVif(cell: Cell, instanceUuid: string, port: Record<string, any>, t: string | null): Promise<void> {
  await cell.db.db.insertInto('virtual_interfaces').values({
    uuid: port['id'], instance_uuid: instanceUuid, address: port['mac_address'] ?? null, network_id: port['network_id'] ?? null, tag: t,
    created_at: new Date().toISOString(), deleted: 0,
  }).execute();
}

async function forgetVif(cell: Cell, instanceUuid: string, portId: string): Promise<void> {
  const now = new Date().toISOString();
  // Soft delete as Nova's models do: `deleted` takes the row's id.
  await cell.db.db.updateTable('virtual_interfaces').set((eb) => ({ deleted: eb.ref('id'), deleted_at: now }))
    .where('instance_uuid', '=', instanceUuid).where('uuid', '=', portId).where('deleted', '=', 0).execute();
}

export function registerInterfaces(app: FastifyInstance, compute: ComputeApiFacade): void {
  const view = (req: FastifyRequest, p: Record<string, any>, tags: Map<string, string | null>) => ({
    port_state: p['status'], fixed_ips: (p['fixed_ips'] ?? []).map((f: any) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
    port_id: p['id'], net_id: p['network_id'], mac_addr: p['mac_address'], ...(mv(req, '2.70') ? { tag: tags.get(p['id']) ?? null } : {}),
  });
  const neutron = () => {
    if (!compute.neutron) throw new ApiError(404, 'The resource could not be found.');
    return compute.neutron;
  };
  app.get<{ Params: { id: string } }>('/servers/:id/os-interface', async (req) => {
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id));
    const ports = await neutron().listPorts(req.ctx, { device_id: req.params.id }, true);
    const tags = mv(req, '2.70') ? await tagsByPort(loc.cell, req.params.id) : new Map<string, string | null>();
    return { interfaceAttachments: ports.map((p) => view(req, p, tags)) };
  });
  app.get<{ Params: { id: string; port: string } }>('/servers/:id/os-interface/:port', async (req) => {
    const loc = await mapErrors('show', req.params.id, () => compute.get(req.ctx, req.params.id));
    const p = await neutron().getPort(req.ctx, req.params.port);
    if (!p) throw notFound(`Port id ${req.params.port} could not be found.`, { type: 'PortNotFound' });
    if (p['device_id'] !== req.params.id) throw notFound(`Instance ${req.params.id} does not have a port with id ${req.params.port}`);
    const tags = mv(req, '2.70') ? await tagsByPort(loc.cell, req.params.id) : new Map<string, string | null>();
    return { interfaceAttachment: view(req, p, tags) };
  });
  app.post<{ Params: { id: string } }>('/servers/:id/os-interface', async (req) => {
    const body = validateBody<{ interfaceAttachment?: Record<string, any> } | null>(req, CREATE_INTERFACE_SCHEMAS);
    const ia = body?.interfaceAttachment ?? {};
    const netId: string | null = ia['net_id'] ?? null;
    const portId: string | null = ia['port_id'] ?? null;
    const t: string | null = ia['tag'] ?? null;
    const loc = await mapErrors('attach_interface', req.params.id, () => compute.get(req.ctx, req.params.id));
    if (netId && portId) throw badRequest('Must not input both network_id and port_id');
    const ip: string | null = ia['fixed_ips']?.[0]?.ip_address ?? null;
    if (ip && !netId) throw badRequest('Must input network_id when request IP address');
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
      if (!p) throw notFound(`Port id ${portId} could not be found.`, { type: 'PortNotFound' });
      if (p['device_id']) throw conflict(`Port ${portId} is still in use.`, { type: 'PortInUse' });
    }
    await InstanceAction.actionStart(loc.cell.backend, req.ctx, req.params.id, 'attach_interface');
    const rpc = await compute.computeRpcFor(loc.cell);
    const vif = await mapErrors('attach_interface', req.params.id, () => rpc.attachInterface(req.ctx, loc.instance, { network_id: net, port_id: portId, requested_ip: ip, tag: t }));
    const port = await neutron().getPort(req.ctx, String(vif['id']));
    if (!port) throw notFound(`Port id ${String(vif['id'])} could not be found.`, { type: 'PortNotFound' });
    await recordVif(loc.cell, req.params.id, port, t);
    return { interfaceAttachment: view(req, port, new Map([[String(port['id']), t]])) };
  });
  app.delete<{ Params: { id: string; port: string } }>('/servers/:id/os-interface/:port', async (req, reply) => {
    const loc = await mapErrors('detach_interface', req.params.id, () => compute.get(req.ctx, req.params.id));
    if (!loc.cell || !loc.instance.host) throw conflict(`Cannot 'detach_interface' instance ${req.params.id} while it is in vm_state ${loc.instance.vm_state}`);
    compute.checkLocked(req.ctx, loc.instance);
    await mapErrors('detach_interface', req.params.id, async () => checkInstanceState(loc.instance, 'detach_interface', ['active', 'paused', 'stopped'], [null], false));
    if (!loc.instance.networkInfo.some((v) => v.id === req.params.port)) throw notFound(`Port ${req.params.port} is not attached`, { type: 'PortNotFound' });
    await InstanceAction.actionStart(loc.cell.backend, req.ctx, req.params.id, 'detach_interface');
    const rpc = await compute.computeRpcFor(loc.cell);
    await rpc.detachInterface(req.ctx, loc.instance, req.params.port);
    await forgetVif(loc.cell, req.params.id, req.params.port);
    reply.code(202);
    return reply.send();
  });
}
