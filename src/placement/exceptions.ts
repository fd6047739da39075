/**
 * Placement's internal exceptions (placement/exception.py), with its messages. Repositories raise
 * these; the REST handlers turn them into HTTP errors the way each upstream handler does.
 * @module
 */
export class PlacementException extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFound extends PlacementException {}
export class ResourceClassNotFound extends NotFound {
  constructor(readonly rcName: string) { super(`No such resource class ${rcName}.`); }
}
export class TraitNotFound extends NotFound {
  constructor(names: string[]) { super(`No such trait(s): ${names.join(', ')}.`); }
}
export class InventoryWithResourceClassNotFound extends NotFound {
  constructor(rc: string) { super(`No inventory of class ${rc} found.`); }
}
export class ConcurrentUpdateDetected extends PlacementException {
  constructor(message = 'Another thread concurrently updated the data. Please retry your update') { super(message); }
}
export class ResourceProviderConcurrentUpdateDetected extends ConcurrentUpdateDetected {
  constructor() { super('Another thread concurrently updated the resource provider data. Please retry your update'); }
}
export class InvalidInventory extends PlacementException {
  constructor(rc: string, rp: string, message?: string) {
    super(message ?? `Inventory for '${rc}' on resource provider '${rp}' invalid.`);
  }
}
export class InvalidAllocationCapacityExceeded extends InvalidInventory {
  constructor(rc: string, rp: string) {
    super(rc, rp, `Unable to create allocation for '${rc}' on resource provider '${rp}'. The requested amount would exceed the capacity.`);
  }
}
export class InvalidAllocationConstraintsViolated extends InvalidInventory {
  constructor(rc: string, rp: string) {
    super(rc, rp, `Unable to create allocation for '${rc}' on resource provider '${rp}'. The requested amount would violate inventory constraints.`);
  }
}
export class InvalidInventoryCapacity extends InvalidInventory {
  constructor(rc: string, rp: string, reservedCanBeTotal: boolean) {
    super(rc, rp, `Invalid inventory for '${rc}' on resource provider '${rp}'. `
      + (reservedCanBeTotal ? 'The reserved value is greater than total.' : 'The reserved value is greater than or equal to total.'));
  }
}
export class InventoryInUse extends InvalidInventory {
  constructor(rcs: string, rp: string) { super(rcs, rp, `Inventory for '${rcs}' on resource provider '${rp}' in use.`); }
}
export class CannotDeleteParentResourceProvider extends PlacementException {
  constructor() { super('Cannot delete resource provider that is a parent of another. Delete child providers first.'); }
}
export class ResourceProviderInUse extends PlacementException {
  constructor() { super('Resource provider has allocations.'); }
}
export class ObjectActionError extends PlacementException {
  constructor(action: string, reason: string) { super(`Object action ${action} failed because: ${reason}`); }
}
export class DuplicateEntry extends PlacementException {
  constructor(readonly columns: string[]) { super(`Duplicate entry for ${columns.join(', ')}`); }
}
