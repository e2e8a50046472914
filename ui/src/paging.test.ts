import { describe, expect, it } from "vitest";
import { PageCache, queryKey } from "./paging.svelte";

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i }));

describe("PageCache", () => {
  it("asks only for the pages it lacks, once", () => {
    const c = new PageCache(200);
    c.reset("k");
    const r = c.request([0, 1]);
    expect(r.map((x) => [x.offset, x.limit])).toEqual([
      [0, 200],
      [200, 200],
    ]);
    expect(c.request([0, 1])).toEqual([]); // in flight
    expect(c.put(0, r[0].generation, rows(1, 200), 10_000)).toBe(true);
    expect(c.row(0)?.id).toBe(1);
    expect(c.row(199)?.id).toBe(200);
    expect(c.row(200)).toBeUndefined();
    expect(c.request([0])).toEqual([]); // loaded
    expect(c.total).toBe(10_000);
  });

  it("ignores answers to an older query", () => {
    const c = new PageCache(100);
    c.reset("a");
    const [old] = c.request([0]);
    c.reset("b");
    expect(c.put(0, old.generation, rows(1, 100), 500)).toBe(false);
    expect(c.row(0)).toBeUndefined();
    expect(c.request([0]).length).toBe(1);
  });

  it("keeps stale rows on screen until fresh ones arrive", () => {
    const c = new PageCache(100);
    c.reset("a");
    const [first] = c.request([0]);
    c.put(0, first.generation, rows(1, 100), 100);
    c.invalidate();
    expect(c.row(5)?.id).toBe(6);
    const [again] = c.request([0]);
    expect(again.generation).toBeGreaterThan(first.generation);
    expect(c.put(0, first.generation, rows(1000, 100), 100)).toBe(false);
    expect(c.put(0, again.generation, rows(500, 90), 90)).toBe(true);
    expect(c.row(5)?.id).toBe(505);
    expect(c.row(95)).toBeUndefined();
  });

  it("holds a bounded number of pages, dropping the farthest", () => {
    const c = new PageCache(10, 3);
    c.reset("a");
    for (const p of [0, 1, 2, 3, 4]) {
      const [r] = c.request([p]);
      c.put(p, r.generation, rows(p * 10, 10), 1000, p);
    }
    expect(c.held).toBe(3);
    expect(c.row(0)).toBeUndefined();
    expect(c.row(45)?.id).toBe(45);
    expect(c.indexOf(33)).toBe(33);
    expect(c.indexOf(3)).toBe(-1);
  });

  it("does not ask beyond the end once the total is known", () => {
    const c = new PageCache(50);
    c.reset("a");
    const [r] = c.request([0]);
    c.put(0, r.generation, rows(0, 30), 30);
    expect(c.request([1, 2])).toEqual([]);
  });

  it("may ask again after a failure", () => {
    const c = new PageCache(50);
    c.reset("a");
    const [r] = c.request([0]);
    c.fail(0, r.generation);
    expect(c.request([0]).length).toBe(1);
  });

  it("lists the loaded rows in order", () => {
    const c = new PageCache(2);
    c.reset("a");
    for (const p of [1, 0]) {
      const [r] = c.request([p]);
      c.put(p, r.generation, rows(p * 2 + 10, 2), 4);
    }
    expect(c.loaded().map((x) => [x.index, x.row.id])).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
      [3, 13],
    ]);
  });
});

describe("queryKey", () => {
  it("ignores surrounding blanks in the search", () => {
    expect(queryKey({ view: "all", search: " weber ", sort: "created", descending: false })).toBe(
      queryKey({ view: "all", search: "weber", sort: "created", descending: false }),
    );
  });
});
