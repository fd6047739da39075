/**
 * Keystone's options that Stratus honours, declared oslo.config-style so the config runner can
 * read them from keystone.conf, and resolved into one plain object for the identity code.
 * `[security_compliance]` is off by default, as in Keystone (see docs/identity.md).
 * @module
 */
import { BoolOpt, IntOpt, StrOpt, type Opt } from '../common/config/opts.js';
import { defaultRounds } from './password.js';

export const identityOpts: Record<string, Opt<any>[]> = {
  token: [
    new IntOpt('expiration', { default: 3600, min: 0, help: 'Amount of time a token should remain valid (in seconds).' }),
    new IntOpt('allow_expired_window', { default: 172800, min: 0, help: 'How long past its expiry a token may still be fetched with ?allow_expired (seconds).' }),
  ],
  fernet_tokens: [
    new StrOpt('key_repository', { default: null, help: 'Directory of Fernet keys (default: <state dir>/fernet-keys).' }),
    new IntOpt('max_active_keys', { default: 3, min: 1, help: 'Keys kept in rotation: staged + primary + secondaries.' }),
  ],
  identity: [
    new IntOpt('password_hash_rounds', { default: null, min: 4, max: 31, help: 'bcrypt cost (default 12; 4 under STRATUS_TEST).' }),
    new IntOpt('max_password_length', { default: 4096, min: 1, help: 'Maximum allowed length for user passwords.' }),
  ],
  security_compliance: [
    new IntOpt('lockout_failure_attempts', { default: null, min: 1, help: 'Failed authentications before a user is locked (unset = never).' }),
    new IntOpt('lockout_duration', { default: 1800, min: 1, help: 'Seconds a user stays locked after lockout_failure_attempts.' }),
    new IntOpt('unique_last_password_count', { default: 0, min: 0, help: 'How many previous passwords a new one must differ from (0 or 1 = off).' }),
    new IntOpt('minimum_password_age', { default: 0, min: 0, help: 'Days a password must be used before the user may change it.' }),
    new IntOpt('password_expires_days', { default: null, min: 0, help: 'Days a password stays valid (unset = forever).' }),
    new StrOpt('password_regex', { default: null, help: 'Regular expression new passwords must match.' }),
    new StrOpt('password_regex_description', { default: null, help: 'Human readable description of password_regex.' }),
    new BoolOpt('change_password_upon_first_use', { default: false, help: 'Users must change a password an admin set before using it.' }),
    new IntOpt('disable_user_account_days_inactive', { default: null, min: 1, help: 'Days without authentication after which a user is disabled (unset = never).' }),
  ],
};

export interface SecurityCompliance {
  lockoutFailureAttempts: number | null;
  lockoutDuration: number;
  uniqueLastPasswordCount: number;
  minimumPasswordAge: number;
  passwordExpiresDays: number | null;
  passwordRegex: string | null;
  passwordRegexDescription: string | null;
  changePasswordUponFirstUse: boolean;
  disableUserAccountDaysInactive: number | null;
}

export interface IdentityConfig {
  tokenExpiration: number;
  allowExpiredWindow: number;
  maxActiveKeys: number;
  keyRepository: string | null;
  passwordHashRounds: number;
  maxPasswordLength: number;
  security: SecurityCompliance;
}

/** Anything that answers `get(group, name)`: a ConfigOpts, or a plain test double. */
export interface ConfigSource {
  get?(group: string, name: string): unknown;
}

/** Overrides given in code (tests): any option, `security` merged field by field. */
export type IdentityOverrides = Partial<Omit<IdentityConfig, 'security'>> & { security?: Partial<SecurityCompliance> };

export function resolveIdentityConfig(config?: unknown, overrides: IdentityOverrides = {}): IdentityConfig {
  const src = config as ConfigSource | undefined;
  const read = <T>(group: string, name: string): T => {
    const opt = identityOpts[group]!.find((o) => o.name === name)!;
    let v: unknown;
    try {
      v = typeof src?.get === 'function' ? src.get(group, name) : undefined;
    } catch {
      v = undefined;
    }
    return (v === undefined ? opt.default : v) as T;
  };
  const base: IdentityConfig = {
    tokenExpiration: read<number>('token', 'expiration'),
    allowExpiredWindow: read<number>('token', 'allow_expired_window'),
    maxActiveKeys: read<number>('fernet_tokens', 'max_active_keys'),
    keyRepository: read<string | null>('fernet_tokens', 'key_repository'),
    passwordHashRounds: read<number | null>('identity', 'password_hash_rounds') ?? defaultRounds(),
    maxPasswordLength: read<number>('identity', 'max_password_length'),
    security: {
      lockoutFailureAttempts: read('security_compliance', 'lockout_failure_attempts'),
      lockoutDuration: read('security_compliance', 'lockout_duration'),
      uniqueLastPasswordCount: read('security_compliance', 'unique_last_password_count'),
      minimumPasswordAge: read('security_compliance', 'minimum_password_age'),
      passwordExpiresDays: read('security_compliance', 'password_expires_days'),
      passwordRegex: read('security_compliance', 'password_regex'),
      passwordRegexDescription: read('security_compliance', 'password_regex_description'),
      changePasswordUponFirstUse: read('security_compliance', 'change_password_upon_first_use'),
      disableUserAccountDaysInactive: read('security_compliance', 'disable_user_account_days_inactive'),
    },
  };
  return { ...base, ...overrides, security: { ...base.security, ...(overrides.security ?? {}) } };
}
