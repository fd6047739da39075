/**
 * What `keystone-manage bootstrap` and devstack do, idempotently (runs on every `stratus up`,
 * keeping what exists): default domain, admin project/user, roles admin > member > reader and
 * service, the service project and users, region, catalog, demo and alt_demo projects/users.
 * @module
 */
import type { ResourceManager, Project } from './core/resource.js';
import { DEFAULT_DOMAIN_ID } from './core/resource.js';
import type { IdentityManager, PasswordHasher, User } from './core/identity.js';
import type { AssignmentManager, Role } from './core/assignment.js';
import type { CatalogManager } from './core/catalog.js';
import { rememberVerified, verifyPassword } from './password.js';
import type { VerifiedPasswords } from './verified-memo.js';

export interface BootstrapSpec {
  adminPassword: string;
  /** e.g. RegionOne */
  region: string;
  /** Catalog entries to ensure. */
  services: { type: string; name: string; publicUrl: string; internalUrl?: string }[];
  /** Users in project 'service' with roles admin + service. */
  serviceUsers: { name: string; password: string }[];
  demoPassword: string;
  /** Passwords earlier runs checked (admin's and the service users'): matching ones skip bcrypt. */
  verified?: VerifiedPasswords;
}

interface Managers {
  resource: ResourceManager;
  identity: IdentityManager;
  assignment: AssignmentManager;
  catalog: CatalogManager;
}

export async function runBootstrap(m: Managers, spec: BootstrapSpec, identityUrl: string): Promise<void> {
  if (!(await m.resource.findDomain(DEFAULT_DOMAIN_ID))) {
    await m.resource.createDomain({ id: DEFAULT_DOMAIN_ID, name: 'Default', description: 'The default domain' });
  }
  const role = async (name: string): Promise<Role> => (await m.assignment.findRoleByName(name)) ?? m.assignment.createRole({ name });
  const reader = await role('reader');
  const member = await role('member');
  const admin = await role('admin');
  const service = await role('service');
  await m.assignment.createImpliedRole(admin.id, member.id);
  await m.assignment.createImpliedRole(member.id, reader.id);

  // Users given the same password (the service users share one, demo and alt_demo another)
  // share one bcrypt hash, salt included: 3 hashes instead of 8, ~1 s less on a first start on
  // 2 cores. Equal hashes tell only that the passwords are equal, which bootstrap decided.
  const hashes = new Map<string, Promise<string>>();
  const hasher: PasswordHasher = (password) => {
    let h = hashes.get(password);
    if (!h) hashes.set(password, (h = m.identity.hasher(password)));
    return h;
  };

  const project = async (name: string, description: string): Promise<Project> =>
    m.resource.getProjectByName(name, DEFAULT_DOMAIN_ID).catch(() => m.resource.createProject({ name, domain_id: DEFAULT_DOMAIN_ID, description }));
  /** Existing users keep their record; `resetPassword` makes the password the given one (keystone-manage bootstrap does so for admin). */
  const user = async (name: string, password: string, defaultProject?: string, resetPassword = false): Promise<User> => {
    const existing = await m.identity.findUserByName(name, DEFAULT_DOMAIN_ID);
    if (existing) {
      if (!existing.enabled) await m.identity.updateUser(existing.id, { enabled: true });
      if (resetPassword) await ensurePassword(existing.id, password);
      return existing;
    }
    const created = await m.identity.createUser({ name, domain_id: DEFAULT_DOMAIN_ID, password, default_project_id: defaultProject, options: { ignore_password_expiry: true, ignore_change_password_upon_first_use: true, ignore_lockout_failure_attempts: true } }, { hasher });
    if (resetPassword) await rememberCurrent(created.id, password);
    return created;
  };
  const rememberCurrent = async (userId: string, password: string): Promise<void> => {
    const hash = await m.identity.currentPasswordHash(userId);
    if (hash !== undefined) spec.verified?.remember(hash, password);
  };
  const ensurePassword = async (userId: string, password: string): Promise<void> => {
    const hash = await m.identity.currentPasswordHash(userId);
    if (hash !== undefined && spec.verified?.knows(hash, password)) {
      rememberVerified(password, hash); // the services' first logins need no compare either
      return;
    }
    if (hash !== undefined && (await verifyPassword(password, hash))) {
      spec.verified?.remember(hash, password);
      return;
    }
    await m.identity.setPassword(userId, password, { selfService: false, hasher });
    await rememberCurrent(userId, password);
  };

  const adminProject = await project('admin', 'Bootstrap project for initializing the cloud.');
  const adminUser = await user('admin', spec.adminPassword, undefined, true);
  await m.assignment.createGrant({ roleId: admin.id, userId: adminUser.id, projectId: adminProject.id });
  await m.assignment.createGrant({ roleId: admin.id, userId: adminUser.id, system: true });

  const serviceProject = await project('service', 'Project for the services.');
  // service users in parallel: bcrypt runs on the thread pool
  await Promise.all(
    spec.serviceUsers.map(async (su) => {
      const u = await user(su.name, su.password, undefined, true);
      await m.assignment.createGrant({ roleId: admin.id, userId: u.id, projectId: serviceProject.id });
      await m.assignment.createGrant({ roleId: service.id, userId: u.id, projectId: serviceProject.id });
    }),
  );

  for (const [name, uname] of [['demo', 'demo'], ['alt_demo', 'alt_demo']] as const) {
    const p = await project(name, `${name} project`);
    const u = await user(uname, spec.demoPassword, p.id);
    await m.assignment.createGrant({ roleId: member.id, userId: u.id, projectId: p.id });
  }
  const invisible = await project('invisible_to_admin', 'A project admin has no role on.');
  void invisible;

  // catalog
  if (!(await m.catalog.listRegions()).some((r) => r.id === spec.region)) await m.catalog.createRegion({ id: spec.region, description: '' });
  const services = [...spec.services];
  if (!services.some((s) => s.type === 'identity')) services.unshift({ type: 'identity', name: 'keystone', publicUrl: identityUrl });
  for (const s of services) {
    const found = (await m.catalog.listServices({ type: s.type })).find((x) => x.name === s.name);
    const svc = found ?? (await m.catalog.createService({ type: s.type, name: s.name }));
    const endpoints = await m.catalog.listEndpoints({ service_id: svc.id });
    for (const [iface, url] of [['public', s.publicUrl], ['internal', s.internalUrl ?? s.publicUrl]] as const) {
      const ep = endpoints.find((e) => e.interface === iface && e.region_id === spec.region);
      if (!ep) await m.catalog.createEndpoint({ interface: iface, service_id: svc.id, url, region_id: spec.region });
      else if (ep.url !== url) await m.catalog.updateEndpoint(ep.id, { url }); // ports may change between runs
    }
  }
}
