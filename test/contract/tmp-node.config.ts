import { defineConfig } from 'vitest/config';
export default defineConfig({
  root: '/work/main',
  test: { environment: 'node', include: ['test/contract/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks', maxWorkers: 2, execArgv: ['--openssl-legacy-provider'] },
});
