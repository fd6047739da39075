/**
 * The host's uptime(1) line, what Nova's libvirt driver answers to get_host_uptime
 * (os-hypervisors/{id}/uptime below 2.88, `uptime` in the hypervisor detail from 2.88).
 * @module
 */
import { loadavg, uptime } from 'node:os';

export function hostUptimeLine(now = new Date()): string {
  const secs = Math.floor(uptime());
  const days = Math.floor(secs / 86_400);
  const h = Math.floor((secs % 86_400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const clock = now.toISOString().slice(11, 19);
  const load = loadavg().map((x) => x.toFixed(2)).join(', ');
  const up = days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${String(h).padStart(2)}:${String(m).padStart(2, '0')}` : `${String(h).padStart(2)}:${String(m).padStart(2, '0')}`;
  return ` ${clock} up ${up},  0 users,  load average: ${load}`;
}
