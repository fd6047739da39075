"""Regenerates tempest-schemas.json: Tempest's compute response schemas this folder's tests
validate against. Run with Tempest's source on PYTHONPATH (a checkout of openstack/tempest):
    PYTHONPATH=/path/to/tempest python3 dump-tempest-schemas.py > tempest-schemas.json
"""
import importlib
import json

NAMES = {
    'servers': ['show_server_diagnostics', 'attach_volume', 'show_volume_attachment', 'list_volume_attachments',
                'show_instance_action', 'list_instance_actions'],
    'interfaces': ['get_create_interfaces', 'list_interfaces'],
    'server_external_events': ['create'],
}
VERSIONS = ['v2_1', 'v2_48', 'v2_51', 'v2_58', 'v2_62', 'v2_70', 'v2_79', 'v2_84', 'v2_89']

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
