// The cache's reactivity, as the outbox list relies on it: markup showing `row(i)`, `total`
// and `known`, and the effect that asks for pages, run again when the cache changes.
import { flushSync } from "svelte";
import { describe, expect, it } from "vitest";
import { PageCache } from "./paging.svelte";

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i }));

/** A cache on query "a" and the list's effect that asks for its first page, as the generations asked. */
function requesting() {
  const c = new PageCache(10);
  c.reset("a");
  const asked: number[] = [];
  const stop = $effect.root(() => {
    $effect(() => {
      for (const r of c.request([0])) asked.push(r.generation);
    });
  });
  flushSync();
  return { c, asked, stop };
}

describe("PageCache (reactive)", () => {
  it("updates what reads a row when its page arrives, and when a new query drops it", () => {
    const c = new PageCache(10);
    c.reset("a");
    const seen: (number | undefined)[] = [];
    const stop = $effect.root(() => {
      $effect(() => {
        seen.push(c.row(3)?.id);
      });
    });
    flushSync();
    const [r] = c.request([0]);
    c.put(0, r.generation, rows(100, 10), 10);
    flushSync();
    c.reset("b");
    flushSync();
    stop();
    expect(seen).toEqual([undefined, 103, undefined]);
  });

  it("runs the requesting effect again when the outbox changes, even while nothing is loaded yet", () => {
    const { c, asked, stop } = requesting();
    // The answer to the first request is still on its way when the outbox changes: it will be
    // refused (older generation), so the page must be asked for again.
    c.invalidate();
    flushSync();
    expect(asked.length).toBe(2);
    expect(c.put(0, asked[0], rows(0, 10), 10)).toBe(false);
    expect(c.put(0, asked[1], rows(0, 10), 10)).toBe(true);
    flushSync();
    expect(asked.length).toBe(2); // loaded: nothing more to ask
    stop();
  });

  it("runs the requesting effect again when the outbox changes while every page it wants is loaded", () => {
    const { c, asked, stop } = requesting();
    c.put(0, asked[0], rows(0, 10), 10);
    flushSync();
    expect(asked.length).toBe(1);
    c.invalidate();
    flushSync();
    expect(asked.length).toBe(2); // the stale page is asked for again
    expect(c.row(3)?.id).toBe(3); // and shown meanwhile
    stop();
  });

  it("makes total and known follow the answers", () => {
    const c = new PageCache(10);
    c.reset("a");
    const totals: number[] = [];
    const stop = $effect.root(() => {
      const shown = $derived(c.known ? c.total : -1);
      $effect(() => {
        totals.push(shown);
      });
    });
    flushSync();
    const [r] = c.request([0]);
    c.put(0, r.generation, rows(0, 10), 42);
    flushSync();
    c.reset("b");
    flushSync();
    stop();
    expect(totals).toEqual([-1, 42, -1]);
  });
});
