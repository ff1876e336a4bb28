// The ingest thread (ingest-thread.ts) starts here: register the TypeScript loader, then load it.
import { register } from 'tsx/esm/api';

register();
await import('./ingest-thread-child.ts');
