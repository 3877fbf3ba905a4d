export { InterceptedBlobStore, InterceptedKVStore } from './intercepted-stores.js';
export { operationName, type BlobOperation, type KVOperation, type StoreCall, type StoreInterceptor } from './store-interceptor.js';
export {
  FAULT_KINDS,
  FaultInjector,
  InjectedFault,
  type FaultInjectorOptions,
  type FaultKind,
  type InjectedFaultRecord,
} from './fault-injector.js';
export { RequestCounter } from './request-counter.js';
export { seededRandom } from './seeded-random.js';
