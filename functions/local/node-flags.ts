// V8 flags for the local stack's processes that answer labelers: the API's (`npm start`, whose package.json script
// passes the same flag, and its worker threads, which share the process's flags) and the emulators' children.
//
// Node 24 grows the young generation to 64 MiB semi-spaces on a machine with this much memory: few collections,
// but each one copies everything still alive in 64 MiB, and on this 2-core machine one took 18-41 ms on the API's
// thread (the emulators' children, where every store call waits behind a collection, grow theirs the same way).
// Capped at 16 MiB there are about four times as many, of at most 6-14 ms each (`npm run bench:api`, its GC line).
export const SERVING_GC_FLAGS = ['--max-semi-space-size=16'] as const;
