"""oslo.messaging notifications peer for the interop test.

Usage: py_notify.py listen|send TRANSPORT_URL EXCHANGE TOPIC
listen: prints READY, then one JSON line per notification received (stops on SIGTERM/stdin EOF).
send:   sends an INFO and an ERROR notification with the messagingv2 driver.
"""
import json
import logging
import signal
import sys
import threading

from oslo_config import cfg
import oslo_messaging

from py_lines import emit


class Endpoint(object):
    def _emit(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        emit(json.dumps({'priority': priority, 'publisher_id': publisher_id,
                         'event_type': event_type, 'payload': payload,
                         'metadata': metadata,
                         'request_id': ctxt.get('request_id'),
                         'has_token': 'auth_token' in ctxt}))

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._emit('info', ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._emit('error', ctxt, publisher_id, event_type, payload, metadata)


def main():
    mode, url, exchange, topic = sys.argv[1:5]
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    oslo_messaging.set_transport_defaults(control_exchange=exchange)
    conf = cfg.CONF
    conf([], project='interop')
    transport = oslo_messaging.get_notification_transport(conf, url=url)
    if mode == 'send':
        notifier = oslo_messaging.Notifier(transport, publisher_id='compute.pyhost',
                                           driver='messagingv2', topics=[topic])
        ctxt = {'request_id': 'req-00000000-0000-0000-0000-0000000000aa', 'user_id': 'py-user'}
        notifier.info(ctxt, 'compute.instance.create.end', {'instance_id': 'i-1'})
        notifier.error(ctxt, 'compute.instance.create.error', {'code': 500})
        transport.cleanup()
        return
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic, exchange=exchange)], [Endpoint()],
        executor='threading')
    listener.start()
    print('READY', flush=True)
    done = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        done.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    done.wait()
    listener.stop()
    listener.wait()
    transport.cleanup()


if __name__ == '__main__':
    main()
