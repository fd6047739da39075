"""Regenerates tempest-schemas.json: Tempest's compute response schemas of the admin resources
(flavors, keypairs, quotas, limits, usage, services, hypervisors, server groups, aggregates,
availability zones), every module-level schema of each microversion directory.

    git -C <tempest mirror> archive HEAD tempest/lib/api_schema | tar -x -C /tmp/t
    touch /tmp/t/tempest/__init__.py /tmp/t/tempest/lib/__init__.py
    /usr/bin/python3 tempest-schemas.py /tmp/t > tempest-schemas.json
"""
import importlib
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
MODULES = ('aggregates', 'availability_zone', 'flavors', 'flavors_access', 'flavors_extra_specs',
           'hypervisors', 'keypairs', 'limits', 'quota_classes', 'quotas', 'server_groups',
           'services', 'tenant_usages')
root = os.path.join(sys.argv[1], 'tempest/lib/api_schema/response/compute')
out = {}
for d in sorted(os.listdir(root)):
    if not d.startswith('v2_'):
        continue
    for m in MODULES:
        if not os.path.exists(os.path.join(root, d, m + '.py')):
            continue
        mod = importlib.import_module('tempest.lib.api_schema.response.compute.%s.%s' % (d, m))
        schemas = {k: v for k, v in vars(mod).items()
                   if isinstance(v, dict) and 'status_code' in v}
        out.setdefault(m, {})[d.replace('v2_', '2.')] = schemas
json.dump({'source': 'openstack/tempest tempest/lib/api_schema/response/compute/v2_*/', 'modules': out},
          sys.stdout, sort_keys=True)
