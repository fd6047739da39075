/**
 * The message bus: oslo.messaging's RPC and notification semantics and wire format, over an
 * in-process broker (`inproc://`) or RabbitMQ (`rabbit://`).
 * @module
 */
import { InprocBus } from './inproc.js';
import type { MessageBus } from './transport.js';
import { parseTransportUrl } from './url.js';

export type { MessageBus, Subscription, DeliveryHandler, MessageBody } from './transport.js';
export type { Target } from './target.js';
export { DEFAULT_EXCHANGE, versionIsCompatible } from './target.js';
export { RpcClient, DEFAULT_TIMEOUT_MS, type RpcClientOptions, type PrepareOptions } from './client.js';
export { RpcServer, type RpcServerOptions, type RpcServerTarget } from './server.js';
export type { RpcEndpoint } from './dispatcher.js';
export type { Serializer } from './serializer.js';
export { noopSerializer } from './serializer.js';
export { Notifier, type NotifierOptions, type NotificationPriority } from './notifier.js';
export { NotificationListener, PRIORITIES, type NotificationMetadata, type NotificationListenerOptions } from './listener.js';
export {
  MessagingTimeout,
  RemoteError,
  UnsupportedVersion,
  NoSuchMethod,
  RpcVersionCapError,
  InvalidTarget,
  registerRemoteException,
} from './exceptions.js';
export { parseTransportUrl, getTransportUrlFromEnv } from './url.js';
export { encodeMessage, decodeMessage, osloTimestamp } from './envelope.js';

/** Opens a transport: `inproc://` (alias `fake://`) or `rabbit://guest:guest@127.0.0.1:5672/`. */
export async function createTransport(url: string): Promise<MessageBus> {
  const parsed = parseTransportUrl(url);
  if (parsed.driver === 'inproc') return new InprocBus(parsed.name);
  const { AmqpBus } = await import('./amqp.js');
  return AmqpBus.connect(parsed);
}
