// The Vitest environment of the UI's tests: Node (no DOM), with the modules transformed as for
// the browser, so that Svelte compiles runes for the client and effects run (the runes classes'
// tests need it; the pure modules' tests do not care).
import type { Environment } from "vitest/environments";

export default {
  name: "svelte-client",
  viteEnvironment: "client",
  setup() {
    return { teardown() {} };
  },
} satisfies Environment;
