// How long the outbox takes to show its first rows, as User Timing marks and measures (the
// browser's own API, seen in the WebKit inspector; read by tests/e2e_perf.rs), instead of
// values on `window`: opened → first page asked → answered → painted.

export type Step = "opened" | "asked" | "answered";

export function mark(step: Step) {
  performance.mark(`outbox:${step}`);
}

/** The rows are on screen: measures the whole wait and its three parts. */
export function painted() {
  performance.mark("outbox:painted");
  try {
    performance.measure("outbox:first-rows", "outbox:opened", "outbox:painted");
    performance.measure("outbox:mount", "outbox:opened", "outbox:asked");
    performance.measure("outbox:ipc", "outbox:asked", "outbox:answered");
    performance.measure("outbox:paint", "outbox:answered", "outbox:painted");
  } catch {
    // A mark is missing (rows painted from the cache): nothing to measure this time.
  }
}
