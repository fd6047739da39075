/**
 * Keystone's default policy (keystone/common/policies), condensed: admins manage everything,
 * readers and members read what concerns their own scope, users manage their own application
 * credentials and see their own projects, any project member may read its domain.
 * @module
 */
import type { RuleDefault } from '../common/policy/index.js';

const ADMIN = 'rule:admin_required';
const SYSTEM_READER = '(role:reader and system_scope:all)';
const ADMIN_OR_SYSTEM_READER = `${ADMIN} or ${SYSTEM_READER}`;
const DOMAIN_READER = '(role:reader and domain_id:%(target.domain_id)s)';
const OWNER = 'user_id:%(target.user.id)s';
const ADMIN_OR_READER_OR_OWNER = `${ADMIN_OR_SYSTEM_READER} or ${OWNER}`;

const r = (name: string, checkStr: string): RuleDefault => ({ name, checkStr });
const admin = (...names: string[]) => names.map((n) => r(`identity:${n}`, ADMIN));
const read = (...names: string[]) => names.map((n) => r(`identity:${n}`, ADMIN_OR_SYSTEM_READER));

export const identityPolicies: RuleDefault[] = [
  r('admin_required', 'role:admin or is_admin:1'),
  r('service_role', 'role:service'),
  r('service_or_admin', 'rule:admin_required or rule:service_role'),
  r('owner', 'user_id:%(user_id)s'),
  r('admin_or_owner', 'rule:admin_required or rule:owner'),
  r('token_subject', 'user_id:%(target.token.user_id)s'),
  r('admin_or_token_subject', 'rule:admin_required or rule:token_subject'),
  r('service_admin_or_token_subject', 'rule:service_or_admin or rule:token_subject'),

  // tokens
  r('identity:validate_token', 'rule:service_admin_or_token_subject or ' + SYSTEM_READER),
  r('identity:check_token', 'rule:service_admin_or_token_subject or ' + SYSTEM_READER),
  r('identity:revoke_token', 'rule:service_admin_or_token_subject'),

  // domains
  r('identity:get_domain', `${ADMIN_OR_SYSTEM_READER} or token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s`),
  ...read('list_domains'),
  ...admin('create_domain', 'update_domain', 'delete_domain'),

  // projects
  r('identity:get_project', `${ADMIN_OR_SYSTEM_READER} or project_id:%(target.project.id)s or (role:reader and domain_id:%(target.project.domain_id)s)`),
  r('identity:list_projects', `${ADMIN_OR_SYSTEM_READER} or ${DOMAIN_READER}`),
  r('identity:list_user_projects', `${ADMIN_OR_READER_OR_OWNER}`),
  ...admin('create_project', 'update_project', 'delete_project', 'create_project_tag', 'update_project_tags', 'delete_project_tag', 'delete_project_tags'),
  r('identity:get_project_tag', `${ADMIN_OR_SYSTEM_READER} or project_id:%(target.project.id)s`),
  r('identity:list_project_tags', `${ADMIN_OR_SYSTEM_READER} or project_id:%(target.project.id)s`),

  // users and groups
  r('identity:get_user', `${ADMIN_OR_READER_OR_OWNER} or (role:reader and domain_id:%(target.user.domain_id)s)`),
  r('identity:list_users', `${ADMIN_OR_SYSTEM_READER} or ${DOMAIN_READER}`),
  ...admin('create_user', 'update_user', 'delete_user'),
  r('identity:list_groups_for_user', `${ADMIN_OR_READER_OR_OWNER}`),
  ...read('get_group', 'list_groups', 'list_users_in_group', 'check_user_in_group'),
  ...admin('create_group', 'update_group', 'delete_group', 'add_user_to_group', 'remove_user_from_group'),

  // roles and assignments
  ...read('get_role', 'list_roles', 'list_implied_roles', 'get_implied_role', 'list_role_inference_rules', 'check_implied_role'),
  ...admin('create_role', 'update_role', 'delete_role', 'create_implied_role', 'delete_implied_role'),
  ...read('check_grant', 'list_grants', 'check_system_grant_for_user', 'list_system_grants_for_user', 'check_system_grant_for_group', 'list_system_grants_for_group'),
  ...admin('create_grant', 'revoke_grant', 'create_system_grant_for_user', 'revoke_system_grant_for_user', 'create_system_grant_for_group', 'revoke_system_grant_for_group'),
  r('identity:list_role_assignments', `${ADMIN_OR_SYSTEM_READER} or ${DOMAIN_READER}`),

  // catalog
  r('identity:get_region', ''),
  r('identity:list_regions', ''),
  ...admin('create_region', 'update_region', 'delete_region', 'create_service', 'update_service', 'delete_service', 'create_endpoint', 'update_endpoint', 'delete_endpoint'),
  ...read('get_service', 'list_services', 'get_endpoint', 'list_endpoints'),

  // credentials: the owner's or an admin's
  r('identity:create_credential', `${ADMIN} or user_id:%(target.credential.user_id)s`),
  r('identity:get_credential', `${ADMIN_OR_SYSTEM_READER} or user_id:%(target.credential.user_id)s`),
  r('identity:list_credentials', ''),
  r('identity:update_credential', `${ADMIN} or user_id:%(target.credential.user_id)s`),
  r('identity:delete_credential', `${ADMIN} or user_id:%(target.credential.user_id)s`),
  r('identity:ec2_create_credential', `${ADMIN} or user_id:%(target.credential.user_id)s`),
  r('identity:ec2_get_credential', `${ADMIN_OR_SYSTEM_READER} or user_id:%(target.credential.user_id)s`),
  r('identity:ec2_list_credentials', `${ADMIN_OR_SYSTEM_READER} or user_id:%(target.credential.user_id)s`),
  r('identity:ec2_delete_credential', `${ADMIN} or user_id:%(target.credential.user_id)s`),
  ...admin('create_policy', 'update_policy', 'delete_policy', 'create_consumer', 'update_consumer', 'delete_consumer'),
  ...read('get_policy', 'list_policies', 'get_consumer', 'list_consumers'),

  // domain-specific configuration
  ...admin('create_domain_config', 'update_domain_config', 'delete_domain_config'),
  ...read('get_domain_config', 'get_domain_config_default'),

  // endpoint filter
  ...admin('create_endpoint_group', 'update_endpoint_group', 'delete_endpoint_group', 'add_endpoint_group_to_project', 'remove_endpoint_group_from_project', 'add_endpoint_to_project', 'remove_endpoint_from_project'),
  ...read('get_endpoint_group', 'list_endpoint_groups', 'list_projects_associated_with_endpoint_group', 'list_endpoints_associated_with_endpoint_group', 'get_endpoint_group_in_project', 'list_endpoint_groups_for_project', 'check_endpoint_in_project', 'list_endpoints_for_project', 'list_projects_for_endpoint'),

  // application credentials: the owner's business
  r('identity:get_application_credential', ADMIN_OR_READER_OR_OWNER),
  r('identity:list_application_credentials', ADMIN_OR_READER_OR_OWNER),
  r('identity:create_application_credential', OWNER),
  r('identity:delete_application_credential', `${ADMIN} or ${OWNER}`),
];
