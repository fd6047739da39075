/**
 * Nova's exceptions (nova/exception.py) that cross RPC or map to API faults. Each keeps
 * Nova's class name (it travels in oslo's failure JSON as module `nova.exception`) and is
 * registered so a caller re-raises the same class.
 * @module
 */
import { registerRemoteException } from '../common/rpc/index.js';

export class NovaException extends Error {
  /** HTTP status a REST layer uses when it surfaces this error. */
  code = 500;
  readonly remoteModule = 'nova.exception';
  kwargs: Record<string, unknown>;
  constructor(message: string, kwargs: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.kwargs = kwargs;
  }
}

const define = (name: string, code: number) => {
  const C = class extends NovaException {
    constructor(message: string, kwargs: Record<string, unknown> = {}) {
      super(message, kwargs);
      this.name = name;
      this.code = code;
    }
  };
  Object.defineProperty(C, 'name', { value: name });
  registerRemoteException(name, C);
  return C;
};

export const InstanceNotFound = define('InstanceNotFound', 404);
export const InstanceUpdateConflict = define('InstanceUpdateConflict', 409);
export const UnexpectedTaskStateError = define('UnexpectedTaskStateError', 409);
export const UnexpectedDeletingTaskStateError = define('UnexpectedDeletingTaskStateError', 409);
export const InstanceInvalidState = define('InstanceInvalidState', 409);
export const NoValidHost = define('NoValidHost', 500);
export const MaxRetriesExceeded = define('MaxRetriesExceeded', 500);
export const RescheduledException = define('RescheduledException', 500);
export const BuildAbortException = define('BuildAbortException', 500);
export const ComputeHostNotFound = define('ComputeHostNotFound', 404);
export const ComputeResourcesUnavailable = define('ComputeResourcesUnavailable', 500);
export const VirtualInterfaceCreateException = define('VirtualInterfaceCreateException', 500);
export const InstanceActionNotFound = define('InstanceActionNotFound', 404);
export const ObjectActionError = define('ObjectActionError', 500);
export const HostMappingNotFound = define('HostMappingNotFound', 404);
export const InstancePowerOffFailure = define('InstancePowerOffFailure', 500);
export const InstanceRebootFailure = define('InstanceRebootFailure', 500);

export const noValidHost = (reason = 'There are not enough hosts available.') =>
  new NoValidHost(`No valid host was found. ${reason}`, { reason });
export const instanceNotFound = (id: string) => new InstanceNotFound(`Instance ${id} could not be found.`, { instance_id: id });
export const unexpectedTaskState = (uuid: string, expected: unknown, actual: unknown, deleting = false) => {
  const msg = `Conflict updating instance ${uuid}. Expected: {'task_state': ${fmt(expected)}}. Actual: {'task_state': ${fmt(actual)}}`;
  return deleting
    ? new UnexpectedDeletingTaskStateError(msg, { instance_uuid: uuid, expected, actual })
    : new UnexpectedTaskStateError(msg, { instance_uuid: uuid, expected, actual });
};

function fmt(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  return `'${String(v)}'`;
}
