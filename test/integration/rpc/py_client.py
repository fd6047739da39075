"""oslo.messaging RPC client used as the Python peer of the interop test.

Usage: py_client.py TRANSPORT_URL EXCHANGE TOPIC SERVER
Calls, casts and fanouts to a Stratus RPC server and prints one JSON line per step.
"""
import json
import logging
import sys
import uuid

from oslo_config import cfg
import oslo_messaging


def out(step, **kw):
    kw['step'] = step
    print(json.dumps(kw), flush=True)


def main():
    url, exchange, topic, server = sys.argv[1:5]
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    # The global CONF: oslo.messaging registers some options (metrics) only there.
    conf = cfg.CONF
    conf([], project='interop')
    transport = oslo_messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=['oslo_messaging.rpc.dispatcher'])
    target = oslo_messaging.Target(exchange=exchange, topic=topic, version='5.0')
    client = oslo_messaging.RPCClient(transport, target, timeout=20)
    ctxt = {'request_id': 'req-' + str(uuid.uuid4()), 'user_id': 'py-user',
            'project_id': 'py-project', 'roles': ['member'], 'is_admin': False}

    out('call', result=client.call(ctxt, 'echo', a=1, b=[1, 2], c={'d': None}),
        request_id=ctxt['request_id'])
    out('call_server', result=client.prepare(server=server).call(ctxt, 'echo', x='y'))
    out('namespace', result=client.prepare(namespace='compute_task', version='1.17').call(ctxt, 'migrate_server', flavor='m1'))
    client.prepare(server=server).cast(ctxt, 'note', n=1)
    out('cast')
    client.prepare(fanout=True).cast(ctxt, 'note', n=2)
    out('fanout')
    try:
        client.call(ctxt, 'fail', id='i-1')
        out('remote_error', raised=None)
    except oslo_messaging.RemoteError as e:
        out('remote_error', raised='RemoteError', exc_type=e.exc_type, value=e.value)
    try:
        client.call(ctxt, 'no_such_method')
        out('no_such_method', raised=None)
    except Exception as e:
        out('no_such_method', raised=type(e).__name__, bases=[c.__name__ for c in type(e).__mro__])
    try:
        client.prepare(version='5.9').call(ctxt, 'echo')
        out('unsupported_version', raised=None)
    except Exception as e:
        out('unsupported_version', raised=type(e).__name__, bases=[c.__name__ for c in type(e).__mro__])
    out('monitored', result=client.prepare(call_monitor_timeout=2, timeout=20).call(ctxt, 'slow', ms=3500))
    try:
        client.prepare(timeout=1).call(ctxt, 'slow', ms=3000)
        out('timeout', raised=None)
    except oslo_messaging.MessagingTimeout:
        out('timeout', raised='MessagingTimeout')
    transport.cleanup()


if __name__ == '__main__':
    main()
