/**
 * Which service's code is running (set around every REST handler), so work started from it,
 * such as an outgoing `Session` request, is attributed to that service in the journey.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface ServiceScope {
  service: string;
  host: string | null;
}

const scopeStore = new AsyncLocalStorage<ServiceScope>();

export function currentServiceScope(): ServiceScope | undefined {
  return scopeStore.getStore();
}

export function runInServiceScope<T>(scope: ServiceScope, fn: () => T): T {
  return scopeStore.run(scope, fn);
}
