"""Regenerates extra-specs.json: the flavor extra spec validators of
nova/api/validation/extra_specs/*.py (2.86), name patterns, value rules and namespaces.
The `traits` and `resources` namespaces are built in TypeScript from Placement's standard
lists (os-traits / os-resource-classes), so they are left out here.

    git -C <nova mirror> archive HEAD nova/api/validation/extra_specs | tar -x -C /tmp/nv
    /usr/bin/python3 extra-specs.py /tmp/nv > extra-specs.json
"""
import importlib
import json
import sys
import types

sys.path.insert(0, sys.argv[1])


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


class ValidationError(Exception):
    pass


def bool_from_string(v, strict=False):
    raise NotImplementedError


# Only what the validator modules import from nova and oslo.
stub('nova', __path__=[sys.argv[1] + '/nova'])
stub('nova.exception', ValidationError=ValidationError)
stub('oslo_utils', strutils=types.SimpleNamespace(bool_from_string=bool_from_string))
stub('oslo_utils.strutils', bool_from_string=bool_from_string)
fields = types.SimpleNamespace(
    BlockDeviceEncryptionFormatType=types.SimpleNamespace(ALL=('plain', 'luks', 'luksv2')),
    SoundModelType=types.SimpleNamespace(ALL=('sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'virtio')),
    USBControllerModelType=types.SimpleNamespace(ALL=('none', 'nec-xhci', 'qemu-xhci')),
)
stub('nova.objects', fields=fields)
stub('nova.objects.fields', **vars(fields))

MODULES = ['accel', 'aggregate_instance_extra_specs', 'capabilities', 'hw', 'hw_rng', 'hw_video',
           'null', 'os', 'pci_passthrough', 'quota', 'vmware']
TYPES = {int: 'int', str: 'str', bool: 'bool'}
out = []
for m in MODULES:
    mod = importlib.import_module('nova.api.validation.extra_specs.%s' % m)
    for v in mod.register():
        value = {k: (TYPES[x] if k == 'type' else list(x) if isinstance(x, tuple) else x) for k, x in v.value.items()}
        value.pop('description', None)
        out.append({'name': v.name, 'name_regex': v.name_regex, 'value': value})
json.dump({'source': 'openstack/nova nova/api/validation/extra_specs/*.py', 'validators': out},
          sys.stdout, indent=0, sort_keys=True)
