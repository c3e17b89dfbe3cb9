import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// The gateway serves the built console at /admin; in development Vite proxies
// the API to a gateway on :8501 (GATEWAY_URL overrides it).
const gateway = process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8501';

export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  cacheDir: '../../node_modules/.vite/apps-admin',
  plugins: [react()],
  // The wire types and role helpers shared with the gateway (browser-safe: no Node imports).
  resolve: { alias: { '@servable/contracts/admin-api': fileURLToPath(new URL('../../libs/contracts/src/admin-api.ts', import.meta.url)) } },
  server: {
    port: 4200,
    proxy: Object.fromEntries(['/admin/api', '/v1', '/v2', '/healthz', '/readyz', '/metrics'].map((p) => [p, gateway])),
  },
  build: { outDir: '../../dist/apps/admin', emptyOutDir: true, reportCompressedSize: false },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.spec.tsx', 'src/**/*.spec.ts'],
    globals: false,
    // The console's stylesheet is read for real (other CSS stays stubbed), so a test can cascade it in jsdom.
    css: { include: [/styles\.css/] },
    setupFiles: ['src/test/setup.ts'],
  },
});
