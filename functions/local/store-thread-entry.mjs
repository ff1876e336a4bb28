// The store thread (store-thread.ts) starts here: register the TypeScript loader, then load it.
import { register } from 'tsx/esm/api';

register();
await import('./store-thread-child.ts');
