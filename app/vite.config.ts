import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The TypeScript client is the repository's own package (client/ts), imported from its
// sources: Vite compiles it with the app, and its @solana/* imports resolve to the app's one
// copy (dedupe), so accounts and addresses are the same types on both sides.
export default defineConfig(({ mode }) => ({
  // The generated client reads process.env.NODE_ENV (a Node.js idiom): defined here.
  define: { 'process.env.NODE_ENV': JSON.stringify(mode === 'production' ? 'production' : 'development') },
  resolve: {
    alias: {
      '@tessera/client': fileURLToPath(new URL('../client/ts/src/index.ts', import.meta.url)),
    },
    dedupe: ['@solana/kit', '@solana/program-client-core'],
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The gallery (kernels/scenes) and the client's sources live outside app/.
    fs: { allow: ['..'] },
  },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
}));
