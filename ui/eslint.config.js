// ESLint for the UI (`npm run lint`): typescript-eslint's and eslint-plugin-svelte's recommended
// rules; formatting is Prettier's (`svelte.configs.prettier` turns off the rules it owns).
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import ts from "typescript-eslint";
import svelteConfig from "./svelte.config.js";

export default defineConfig(
  globalIgnores(["dist/", "node_modules/", "src/bindings.ts"]),
  js.configs.recommended,
  ts.configs.recommended,
  svelte.configs.recommended,
  svelte.configs.prettier,
  {
    languageOptions: {
      parserOptions: { extraFileExtensions: [".svelte"] },
      globals: { ...globals.browser },
    },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: { parserOptions: { parser: ts.parser, svelteConfig } },
  },
  {
    rules: {
      // TypeScript (svelte-check) already reports undefined names, and knows the DOM's types
      // (`AutoFill`) that this rule does not: typescript-eslint's advice for TypeScript code.
      "no-undef": "off",
      // It flags `{" "}`, Svelte 5's way to keep a space at the start or end of a block (which
      // the compiler trims), and its fix would delete that space from the page.
      "svelte/no-useless-mustaches": "off",
    },
  },
  {
    files: ["*.config.js", "*.config.ts"],
    languageOptions: { globals: { ...globals.node } },
  },
);
