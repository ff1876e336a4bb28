// The web app: built from web/ into web/dist, served by the local server (and CloudFront in the cloud).
// In dev, `/api` goes to the local stack so the app and the API share an origin, as in production.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  plugins: [solid()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Owner views are split into lazy chunks; the labeling path stays in the initial bundle.
    modulePreload: { polyfill: false },
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': 'http://127.0.0.1:8787' },
  },
});
