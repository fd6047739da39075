export { Enforcer, credentialsFromContext, PolicyNotRegistered, type RuleDefault, type Credentials } from './enforcer.js';
export { parseRule, PolicySyntaxError, type Check } from './parser.js';
export { loadPolicyFile, parsePolicyText, policyOpts, PolicyFileError } from './file.js';
