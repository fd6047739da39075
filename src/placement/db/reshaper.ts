/**
 * POST /reshaper: move inventory and the allocations against it between providers of a tree,
 * in one transaction (placement/objects/reshaper.py): interim inventory (old plus new classes),
 * the allocation replacement, then the final inventory.
 * @module
 */
import { ResourceProviderConcurrentUpdateDetected } from '../exceptions.js';
import { attemptSetAllocations, type ConsumerAllocations } from './allocations.js';
import { listInventories, setInventories, type InventoryFields } from './inventories.js';
import { getProviderByUuid, type ResourceProvider } from './providers.js';
import { ResourceClassMap } from './resource-classes.js';
import type { PlacementDatabase } from './sql.js';

export interface ReshapeInventory {
  rp: ResourceProvider;
  inventories: Map<string, InventoryFields>;
}

export async function reshape(database: PlacementDatabase, inventories: ReshapeInventory[], allocations: ConsumerAllocations[]): Promise<void> {
  await database.transaction(async (trx) => {
    const rcs = await ResourceClassMap.load(trx);
    for (const { rp, inventories: wanted } of inventories) {
      if (!wanted.size) continue;
      const interim = new Map<string, InventoryFields>();
      for (const i of await listInventories(trx, rp.id, rcs)) interim.set(i.resource_class, i);
      for (const [rc, inv] of wanted) interim.set(rc, inv);
      // The caller checked the generation it was given; a change since is a conflict.
      const cur = await getProviderByUuid(trx, rp.uuid);
      if (cur.generation !== rp.generation) throw new ResourceProviderConcurrentUpdateDetected();
      await setInventories(trx, database.dialect, cur, interim, rcs);
    }
    if (allocations.length) await attemptSetAllocations(database, trx, allocations);
    for (const { rp, inventories: wanted } of inventories) {
      const cur = await getProviderByUuid(trx, rp.uuid);
      await setInventories(trx, database.dialect, cur, wanted, rcs);
    }
  });
}
