/**
 * The ML2 mechanism driver for Stratus's L2 agent (agent type "Linux bridge agent"):
 * a port binds to a host only when a live L2 agent reports that host and the agent can reach
 * one of the network's segments (its physnet mappings or its tunnel types).
 * Otherwise the binding is `binding_failed`, which Nova turns into a failed build.
 * @module
 */
import { AGENT_TYPE_L2, VIF_TYPE_BINDING_FAILED, VIF_TYPE_BRIDGE } from '../../common/constants.js';

export interface AgentInfo {
  host: string;
  alive: boolean;
  admin_state_up: boolean;
  agent_type: string;
  configurations: Record<string, any>;
}

export interface StoredSegment {
  id: string;
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
}

export interface BindResult {
  vif_type: string;
  vif_details: Record<string, unknown>;
  segment_id: string | null;
}

function agentReaches(agent: AgentInfo, seg: StoredSegment): boolean {
  const conf = agent.configurations ?? {};
  if (seg.network_type === 'local') return true;
  if (seg.network_type === 'flat' || seg.network_type === 'vlan') {
    const mappings = { ...(conf['interface_mappings'] ?? {}), ...(conf['bridge_mappings'] ?? {}) };
    return seg.physical_network !== null && seg.physical_network in mappings;
  }
  return Array.isArray(conf['tunnel_types']) && conf['tunnel_types'].includes(seg.network_type);
}

export function bindPort(networkId: string, vnicType: string, agents: AgentInfo[], segments: StoredSegment[]): BindResult {
  if (vnicType !== 'normal') return { vif_type: VIF_TYPE_BINDING_FAILED, vif_details: {}, segment_id: null };
  for (const agent of agents) {
    if (agent.agent_type !== AGENT_TYPE_L2 || !agent.alive || !agent.admin_state_up) continue;
    for (const seg of segments) {
      if (!agentReaches(agent, seg)) continue;
      return {
        vif_type: VIF_TYPE_BRIDGE,
        vif_details: { connectivity: 'l2', port_filter: true, bridge_name: `brq${networkId.slice(0, 11)}` },
        segment_id: seg.id,
      };
    }
  }
  return { vif_type: VIF_TYPE_BINDING_FAILED, vif_details: {}, segment_id: null };
}
