import { defineConfig } from 'vitest/config';
import solid from 'vite-plugin-solid';

const shared = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    // Emulator-backed suites start servers on loopback ports: parallel files, bounded for 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...shared,
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/web/**'],
          // s3rver's paginated listing (ListObjectsV2) answers 500 under OpenSSL 3 without the legacy provider.
          execArgv: ['--openssl-legacy-provider'],
        },
      },
      {
        // The web app's component tests: Solid's compiler and browser module conditions apply only here,
        // so Node suites keep the Node builds of the AWS SDK.
        plugins: [solid()],
        resolve: { conditions: ['development', 'browser'] },
        test: {
          ...shared,
          name: 'web',
          environment: 'jsdom',
          include: ['test/web/**/*.test.{ts,tsx}'],
          setupFiles: ['test/web/setup.ts'],
        },
      },
    ],
  },
});
