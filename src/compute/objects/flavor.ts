/**
 * Flavor (nova/objects/flavor.py): lives in the API DB, travels embedded in Instance and RequestSpec.
 * @module
 */
import { NovaObject, registerObject, type FieldKind } from './base.js';

export class Flavor extends NovaObject {
  static override objName = 'Flavor';
  // Version 1.2: Added description
  static override VERSION = '1.2';
  static override fields: Record<string, FieldKind> = {
    id: 'int', name: 'string', memory_mb: 'int', vcpus: 'int', root_gb: 'int', ephemeral_gb: 'int', flavorid: 'string',
    swap: 'int', rxtx_factor: 'float', vcpu_weight: 'int', disabled: 'bool', is_public: 'bool', extra_specs: 'dict',
    projects: 'list', description: 'string', created_at: 'datetime', updated_at: 'datetime', deleted_at: 'datetime', deleted: 'bool',
  };
  declare id: number; declare name: string; declare memory_mb: number; declare vcpus: number; declare root_gb: number;
  declare ephemeral_gb: number; declare flavorid: string; declare swap: number; declare rxtx_factor: number;
  declare vcpu_weight: number | null; declare disabled: boolean; declare is_public: boolean;
  declare extra_specs: Record<string, string>; declare projects: string[]; declare description: string | null;
}
registerObject(Flavor);
