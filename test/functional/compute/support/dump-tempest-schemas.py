"""Writes the Tempest compute response schemas a test folder validates against, from that
folder's tempest-schemas.spec.json ({"names": {module: [schema names]}, "versions": ["v2_1", ...]}).
Run with Tempest's source on PYTHONPATH (a checkout of openstack/tempest):
    PYTHONPATH=/path/to/tempest python3 dump-tempest-schemas.py ../move/tempest-schemas.spec.json > ../move/tempest-schemas.json
"""
import importlib
import json
import sys

spec = json.load(open(sys.argv[1]))
out = {}
for v in spec['versions']:
    for mod, names in spec['names'].items():
        try:
            m = importlib.import_module('tempest.lib.api_schema.response.compute.%s.%s' % (v, mod))
        except ImportError:
            continue
        for n in names:
            if hasattr(m, n):
                out['%s/%s.%s' % (v, mod, n)] = getattr(m, n)
print(json.dumps(out, indent=1, sort_keys=True))
