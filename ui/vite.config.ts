import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The UI is embedded into the binary (tauri.conf.json build.frontendDist = ui/dist).
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "safari15", sourcemap: false },
  // Tests run in Node but as browser code (test/client-env.ts, Svelte's browser runtime), so
  // that runes react in `*.svelte.test.ts`: effects run, `flushSync` flushes them.
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: { environment: "./test/client-env.ts", include: ["src/**/*.test.ts"] },
});
