"""Regenerates tempest-schemas.json: Tempest's compute response schemas for /servers, per
microversion range (as tempest/lib/services/compute/servers_client.py picks them).

    git -C <tempest mirror> archive HEAD tempest/lib/api_schema | tar -x -C /tmp/t
    touch /tmp/t/tempest/__init__.py /tmp/t/tempest/lib/__init__.py
    /usr/bin/python3 tempest-schemas.py /tmp/t > tempest-schemas.json
"""
import importlib
import json
import sys

sys.path.insert(0, sys.argv[1])
RANGES = [('2.47', '2.47', 'v2_47'), ('2.48', '2.50', 'v2_48'), ('2.51', '2.53', 'v2_51'),
          ('2.54', '2.56', 'v2_54'), ('2.57', '2.57', 'v2_57'), ('2.58', '2.61', 'v2_58'),
          ('2.62', '2.62', 'v2_62'), ('2.63', '2.69', 'v2_63'), ('2.70', '2.70', 'v2_70'),
          ('2.71', '2.72', 'v2_71'), ('2.73', '2.74', 'v2_73'), ('2.75', '2.78', 'v2_75'),
          ('2.79', '2.79', 'v2_79'), ('2.80', '2.83', 'v2_80'), ('2.84', '2.88', 'v2_84'),
          ('2.89', '2.95', 'v2_89')]
KEEP = ('get_server', 'list_servers', 'list_servers_detail', 'update_server', 'rebuild_server',
        'rebuild_server_with_admin_pass')
out = []
for lo, hi, mod in RANGES:
    m = importlib.import_module('tempest.lib.api_schema.response.compute.%s.servers' % mod)
    out.append({'min': lo, 'max': hi, 'module': mod, 'schemas': {k: getattr(m, k) for k in KEEP}})
base = importlib.import_module('tempest.lib.api_schema.response.compute.v2_1.servers')
json.dump({'source': 'openstack/tempest tempest/lib/api_schema/response/compute/*/servers.py',
           'create_server': base.create_server, 'create_server_with_admin_pass': base.create_server_with_admin_pass,
           'rescue_server': getattr(base, 'rescue_server', None),
           'versions': out}, sys.stdout, sort_keys=True)
