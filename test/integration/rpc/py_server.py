"""oslo.messaging RPC server used as the Python peer of the interop test.

Usage: py_server.py TRANSPORT_URL EXCHANGE TOPIC SERVER
Prints READY when consuming; one JSON line per cast received; stops on SIGTERM or stdin EOF.
"""
import json
import logging
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging

from py_lines import emit


class InstanceNotFound(Exception):
    pass


class Endpoint(object):
    target = oslo_messaging.Target(version='2.3')

    def echo(self, ctxt, **kwargs):
        return {'args': kwargs, 'request_id': ctxt.get('request_id'),
                'user_id': ctxt.get('user_id'), 'roles': ctxt.get('roles'),
                'peer': 'python'}

    def note(self, ctxt, **kwargs):
        emit(json.dumps({'cast': kwargs, 'request_id': ctxt.get('request_id')}))

    def fail(self, ctxt, **kwargs):
        raise InstanceNotFound('Instance %s could not be found.' % kwargs.get('id'))

    def bad_value(self, ctxt, **kwargs):
        raise ValueError('bad value %s' % kwargs.get('v'))

    def slow(self, ctxt, seconds):
        time.sleep(seconds)
        return 'slept'


def main():
    url, exchange, topic, server = sys.argv[1:5]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # The global CONF: oslo.messaging registers some options (metrics) only there.
    conf = cfg.CONF
    conf([], project='interop')
    transport = oslo_messaging.get_rpc_transport(conf, url=url)
    target = oslo_messaging.Target(exchange=exchange, topic=topic, server=server)
    rpc = oslo_messaging.get_rpc_server(transport, target, [Endpoint()], executor='threading')
    rpc.start()
    print('READY', flush=True)
    done = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        done.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    import signal
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    done.wait()
    rpc.stop()
    rpc.wait()
    transport.cleanup()


if __name__ == '__main__':
    main()
