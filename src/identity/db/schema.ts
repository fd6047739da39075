/**
 * Keystone's tables (names and columns as in keystone/common/sql), trimmed to what Stratus uses.
 * Booleans are integer 0/1 and times are epoch milliseconds (bigint), so one schema runs on
 * SQLite, MariaDB and PostgreSQL alike. Domains are rows of `project` with `is_domain = 1`
 * under the root domain id, as in Keystone.
 * @module
 */
import type { Generated } from 'kysely';

/** The `domain_id` of domain rows in `project` (Keystone's NULL_DOMAIN_ID). */
export const ROOT_DOMAIN_ID = '<<keystone.domain.root>>';
/** `role.domain_id` of global roles. */
export const NULL_DOMAIN_ID = '<<null>>';

export interface ProjectTable {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  enabled: number;
  extra: string;
  parent_id: string | null;
  is_domain: number;
}
export interface ProjectTagTable {
  project_id: string;
  name: string;
}
export interface UserTable {
  id: string;
  domain_id: string;
  enabled: number;
  default_project_id: string | null;
  extra: string;
  created_at: number;
  last_active_at: number | null;
}
export interface LocalUserTable {
  id: Generated<number>;
  user_id: string;
  domain_id: string;
  name: string;
  failed_auth_count: number | null;
  failed_auth_at: number | null;
}
export interface PasswordTable {
  id: Generated<number>;
  local_user_id: number;
  password_hash: string;
  created_at: number;
  expires_at: number | null;
  self_service: number;
}
export interface UserOptionTable {
  user_id: string;
  option_id: string;
  option_value: string;
}
export interface GroupTable {
  id: string;
  domain_id: string;
  name: string;
  description: string | null;
  extra: string;
}
export interface UserGroupMembershipTable {
  user_id: string;
  group_id: string;
}
export interface RoleTable {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  extra: string;
}
export interface ImpliedRoleTable {
  prior_role_id: string;
  implied_role_id: string;
}
export type AssignmentType = 'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain';
export interface AssignmentTable {
  type: AssignmentType;
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: number;
}
export interface SystemAssignmentTable {
  type: 'UserSystem' | 'GroupSystem';
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: number;
}
export interface RegionTable {
  id: string;
  description: string;
  parent_region_id: string | null;
  extra: string;
}
export interface ServiceTable {
  id: string;
  type: string;
  enabled: number;
  extra: string;
}
export interface EndpointTable {
  id: string;
  interface: string;
  service_id: string;
  url: string;
  enabled: number;
  region_id: string | null;
  extra: string;
}
export interface ApplicationCredentialTable {
  internal_id: Generated<number>;
  id: string;
  name: string;
  secret_hash: string;
  description: string | null;
  user_id: string;
  project_id: string | null;
  system: string | null;
  expires_at: number | null;
  unrestricted: number;
  created_at: number;
}
export interface ApplicationCredentialRoleTable {
  application_credential_id: number;
  role_id: string;
}
export interface RevocationEventTable {
  id: Generated<number>;
  domain_id: string | null;
  project_id: string | null;
  user_id: string | null;
  role_id: string | null;
  audit_id: string | null;
  audit_chain_id: string | null;
  issued_before: number;
  expires_at: number | null;
  revoked_at: number;
}

export interface CredentialTable {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  encrypted_blob: string;
  key_hash: string;
  extra: string;
}
export interface PolicyTable {
  id: string;
  type: string;
  blob: string;
  extra: string;
}
export interface ConsumerTable {
  id: string;
  description: string | null;
  secret: string;
  extra: string;
}

export interface TrustTable {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: number;
  /** epoch microseconds */
  expires_at: number | null;
  remaining_uses: number | null;
  deleted_at: number | null;
  extra: string;
}
export interface TrustRoleTable {
  trust_id: string;
  role_id: string;
}

export interface DomainConfigTable {
  domain_id: string;
  group: string;
  option: string;
  /** JSON */
  value: string;
}
export interface EndpointGroupTable {
  id: string;
  name: string;
  description: string | null;
  /** JSON: {interface?, service_id?, region_id?} */
  filters: string;
}
export interface ProjectEndpointGroupTable {
  endpoint_group_id: string;
  project_id: string;
}
export interface ProjectEndpointTable {
  endpoint_id: string;
  project_id: string;
}

export interface KeystoneDB {
  whitelisted_config: DomainConfigTable;
  sensitive_config: DomainConfigTable;
  endpoint_group: EndpointGroupTable;
  project_endpoint_group: ProjectEndpointGroupTable;
  project_endpoint: ProjectEndpointTable;
  trust: TrustTable;
  trust_role: TrustRoleTable;
  credential: CredentialTable;
  policy: PolicyTable;
  consumer: ConsumerTable;
  project: ProjectTable;
  project_tag: ProjectTagTable;
  user: UserTable;
  local_user: LocalUserTable;
  password: PasswordTable;
  user_option: UserOptionTable;
  group: GroupTable;
  user_group_membership: UserGroupMembershipTable;
  role: RoleTable;
  implied_role: ImpliedRoleTable;
  assignment: AssignmentTable;
  system_assignment: SystemAssignmentTable;
  region: RegionTable;
  service: ServiceTable;
  endpoint: EndpointTable;
  application_credential: ApplicationCredentialTable;
  application_credential_role: ApplicationCredentialRoleTable;
  revocation_event: RevocationEventTable;
}
