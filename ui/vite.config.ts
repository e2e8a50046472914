import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The UI is embedded into the binary (tauri.conf.json build.frontendDist = ui/dist).
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "safari15", sourcemap: false },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
