/**
 * Placement's database tables, as in openstack/placement's models.py (same names and columns).
 * Every table carries `created_at` / `updated_at` (oslo.db's TimestampMixin).
 * @module
 */
import type { Generated } from 'kysely';

interface Timestamps {
  created_at: string | Date | null;
  updated_at: string | Date | null;
}

export interface ResourceClassTable extends Timestamps {
  id: number;
  name: string;
}

export interface ResourceProviderTable extends Timestamps {
  id: Generated<number>;
  uuid: string;
  name: string | null;
  generation: number;
  root_provider_id: number | null;
  parent_provider_id: number | null;
}

export interface InventoryTable extends Timestamps {
  id: Generated<number>;
  resource_provider_id: number;
  resource_class_id: number;
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

export interface AllocationTable extends Timestamps {
  id: Generated<number>;
  resource_provider_id: number;
  consumer_id: string;
  resource_class_id: number;
  used: number;
}

export interface ResourceProviderAggregateTable extends Timestamps {
  resource_provider_id: number;
  aggregate_id: number;
}

export interface PlacementAggregateTable extends Timestamps {
  id: Generated<number>;
  uuid: string;
}

export interface TraitTable extends Timestamps {
  id: Generated<number>;
  name: string;
}

export interface ResourceProviderTraitTable extends Timestamps {
  trait_id: number;
  resource_provider_id: number;
}

export interface ProjectTable extends Timestamps {
  id: Generated<number>;
  external_id: string;
}

export interface UserTable extends Timestamps {
  id: Generated<number>;
  external_id: string;
}

export interface ConsumerTable extends Timestamps {
  id: Generated<number>;
  uuid: string;
  project_id: number;
  user_id: number;
  generation: number;
  consumer_type_id: number | null;
}

export interface ConsumerTypeTable extends Timestamps {
  id: Generated<number>;
  name: string;
}

export interface PlacementDB {
  resource_classes: ResourceClassTable;
  resource_providers: ResourceProviderTable;
  inventories: InventoryTable;
  allocations: AllocationTable;
  resource_provider_aggregates: ResourceProviderAggregateTable;
  placement_aggregates: PlacementAggregateTable;
  traits: TraitTable;
  resource_provider_traits: ResourceProviderTraitTable;
  projects: ProjectTable;
  users: UserTable;
  consumers: ConsumerTable;
  consumer_types: ConsumerTypeTable;
}
