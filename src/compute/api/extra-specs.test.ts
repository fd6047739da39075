import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateExtraSpec } from './extra-specs.js';

const bad = (name: string, value: unknown, re: RegExp) => assert.throws(() => validateExtraSpec(name, value), (e: any) => e.status === 400 && re.test(e.message));

test('known namespaces are validated as upstream', () => {
  for (const [k, v] of [
    ['hw:cpu_policy', 'dedicated'], ['hw:numa_nodes', '2'], ['hw:mem_page_size', '2MB'], ['hw:numa_cpus.0', '0-3,^2'], ['hw:numa_mem.1', '1024'],
    ['hw_rng:allowed', 'true'], ['hw_rng:rate_bytes', '100'], ['hw_video:ram_max_mb', '64'], ['os:secure_boot', 'required'],
    ['quota:cpu_shares', '100'], ['resources:VCPU', '2'], ['resources1:CUSTOM_FOO', '1'], ['resources_g:MEMORY_MB', '0'],
    ['trait:HW_CPU_X86_AVX', 'required'], ['trait2:CUSTOM_GOLD', 'forbidden'], ['aggregate_instance_extra_specs:ssd', 'true'],
    ['capabilities:cpu_info:arch', 'x86_64'], ['accel:device_profile', 'p1'], ['pci_passthrough:alias', 'a1:2'],
    ['hide_hypervisor_id', 'true'], ['group_policy', 'isolate'], ['hw:cpu_policy', 'mixed'],
  ] as const) validateExtraSpec(k, v);
  validateExtraSpec('hw:numa_nodes', 2);
  bad('hw:cpu_policy', 'bogus', /'bogus' is not one of: dedicated, shared, mixed\./);
  bad('hw:numa_nodes', 'two', /is not a valid integer value/);
  bad('hw:numa_nodes', '0', /less than the min value of '1'/);
  bad('hw_rng:allowed', 'maybe', /not a valid boolean-like value/);
  bad('hw:mem_page_size', 'huge', /is not of the format/);
  bad('hw:bogus', 'x', /extra spec 'hw:bogus' does not appear to be a valid extra spec\./);
  bad('trait:HW_CPU_X86_AVX', 'yes', /not one of: required, forbidden/);
  bad('trait:NOT_A_TRAIT', 'required', /does not appear to be a valid extra spec/);
  bad('resources:VCPU', 'x', /not a valid integer/);
  bad('os:bogus', '1', /does not appear/);
  bad('pci_passthrough:alias', 'nocount', /is not of the format/);
});

test('unknown namespaces and plain keys pass', () => {
  validateExtraSpec('mynamespace:anything', 'x');
  validateExtraSpec('plainkey', 'whatever');
  validateExtraSpec('ssd', 'true');
});
