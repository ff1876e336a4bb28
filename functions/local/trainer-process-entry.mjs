// The trainer child process (trainer-process.ts) starts here: register the TypeScript loader, then load it.
import { register } from 'tsx/esm/api';

register();
await import('./trainer-process-child.ts');
