/// <reference types="vitest/config" />
// Builds the UI into Django's static files (served by WhiteNoise under /static/ui/); in development
// the dev server proxies the API, its WebSocket and the admin to `make run` on :8080.
import { fileURLToPath } from "node:url";

import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const backend = process.env.SEMANTIK_URL ?? "http://127.0.0.1:8080";
const outDir = fileURLToPath(new URL("../backend/semantik/web/static/ui", import.meta.url));

export default defineConfig(({ command }) => ({
  base: command === "build" ? "/static/ui/" : "/",
  plugins: [react(), tailwindcss()],
  build: {
    outDir,
    emptyOutDir: true,
    rollupOptions: {
      output: {
        // Libraries change less often than the app: their own file stays cached across releases.
        manualChunks: { vendor: ["react", "react-dom", "react-router", "@tanstack/react-query", "zustand"] },
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: backend, ws: true },
      "/admin": { target: backend },
      "/static/admin": { target: backend },
    },
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.{ts,tsx}"],
    setupFiles: ["tests/setup.ts"],
    restoreMocks: true,
  },
}));
