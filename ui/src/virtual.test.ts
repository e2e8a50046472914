import { describe, expect, it } from "vitest";
import { pagesOf, scrollToShow, visibleRange } from "./virtual";

describe("visibleRange", () => {
  it("renders the rows on screen plus the overscan", () => {
    // 600 px of 60 px rows at the top: rows 0..10 visible (11 with the partial one)
    expect(visibleRange(0, 600, 60, 10_000, 5)).toEqual({ start: 0, end: 16 });
    // scrolled to row 100 exactly
    expect(visibleRange(6000, 600, 60, 10_000, 5)).toEqual({ start: 95, end: 116 });
  });
  it("stays inside the list", () => {
    expect(visibleRange(0, 600, 60, 3, 5)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(10_000_000, 600, 60, 100, 5)).toEqual({ start: 94, end: 100 });
    expect(visibleRange(-50, 600, 60, 100, 0)).toEqual({ start: 0, end: 11 });
    expect(visibleRange(0, 600, 60, 0)).toEqual({ start: 0, end: 0 });
  });
  it("renders a constant number of rows however long the list", () => {
    const small = visibleRange(0, 700, 64, 100, 8);
    const big = visibleRange(64 * 5000, 700, 64, 10_000, 8);
    expect(big.end - big.start).toBeLessThanOrEqual(small.end - small.start + 8);
    expect(big.end - big.start).toBeLessThan(40);
  });
});

describe("scrollToShow", () => {
  it("does not move when the row is visible", () => {
    expect(scrollToShow(3, 0, 600, 60)).toBe(0);
  });
  it("moves up or down just enough", () => {
    expect(scrollToShow(2, 300, 600, 60)).toBe(120);
    expect(scrollToShow(12, 0, 600, 60)).toBe(180); // bottom of row 12 is 780
  });
});

describe("pagesOf", () => {
  it("lists the pages a range touches", () => {
    expect(pagesOf({ start: 0, end: 20 }, 200)).toEqual([0]);
    expect(pagesOf({ start: 190, end: 215 }, 200)).toEqual([0, 1]);
    expect(pagesOf({ start: 400, end: 400 }, 200)).toEqual([]);
  });
});
