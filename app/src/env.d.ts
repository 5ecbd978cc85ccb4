// The generated client reads `process.env.NODE_ENV`, which Vite replaces at build time.
declare const process: { env: Record<string, string | undefined> };
