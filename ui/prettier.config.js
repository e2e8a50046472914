// Prettier for the UI (`npm run lint` checks it). Wide lines, as the code was written before
// the formatter came: a Svelte attribute list reads better on one line than broken per attribute.
/** @type {import("prettier").Config} */
export default {
  printWidth: 160,
  plugins: ["prettier-plugin-svelte"],
  overrides: [{ files: "*.svelte", options: { parser: "svelte" } }],
};
