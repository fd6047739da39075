"""Regenerates tempest-schemas.json: Tempest's compute response schemas the move tests
validate against. Run with Tempest's source on PYTHONPATH (a checkout of openstack/tempest):
    PYTHONPATH=/path/to/tempest python3 dump-tempest-schemas.py > tempest-schemas.json
"""
import importlib
import json

NAMES = {
    'migrations': ['list_migrations'],
    'servers': ['list_live_migrations', 'show_server', 'evacuate_server'],
}
VERSIONS = ['v2_1', 'v2_23', 'v2_59', 'v2_80', 'v2_89', 'v2_96', 'v2_98', 'v2_100']

out = {}
for v in VERSIONS:
    for mod, names in NAMES.items():
        try:
            m = importlib.import_module('tempest.lib.api_schema.response.compute.%s.%s' % (v, mod))
        except ImportError:
            continue
        for n in names:
            if hasattr(m, n):
                out['%s/%s.%s' % (v, mod, n)] = getattr(m, n)
print(json.dumps(out, indent=1, sort_keys=True))
