import { defineConfig } from 'vitest/config';
import solid from 'vite-plugin-solid';

export default defineConfig({
  plugins: [solid()],
  test: {
    // Node tests by default; web component tests opt into jsdom with a file comment.
    environment: 'node',
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The stack tests start emulators on loopback ports: keep files parallel but bounded on 2 cores.
    maxWorkers: 2,
    execArgv: ['--openssl-legacy-provider'],
  },
});
