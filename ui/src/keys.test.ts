import { describe, expect, it } from "vitest";
import { isTyping, listStep, moveSelection, shortcutFor, shortcuts } from "./keys";

describe("shortcutFor", () => {
  const body = { tagName: "BODY" };
  it("maps the keys", () => {
    expect(shortcutFor({ key: "j", target: body })).toBe("next");
    expect(shortcutFor({ key: "k", target: body })).toBe("prev");
    expect(shortcutFor({ key: "a", target: { tagName: "BUTTON" } })).toBe("approve");
    expect(shortcutFor({ key: "e", target: body })).toBe("edit");
    expect(shortcutFor({ key: "r", target: body })).toBe("reject");
    expect(shortcutFor({ key: "/", target: body })).toBe("search");
    expect(shortcutFor({ key: "?", target: body })).toBe("help");
    expect(shortcutFor({ key: "x", target: body })).toBeNull();
  });
  it("does nothing while the rep types", () => {
    for (const target of [
      { tagName: "INPUT", type: "text" },
      { tagName: "INPUT", type: "search" },
      { tagName: "TEXTAREA" },
      { tagName: "SELECT" },
      { tagName: "DIV", isContentEditable: true },
    ]) {
      expect(shortcutFor({ key: "a", target }), JSON.stringify(target)).toBeNull();
      expect(isTyping(target)).toBe(true);
    }
    expect(shortcutFor({ key: "j", target: { tagName: "INPUT", type: "checkbox" } })).toBe("next");
  });
  it("leaves modified keys to the system", () => {
    expect(shortcutFor({ key: "a", ctrlKey: true, target: body })).toBeNull();
    expect(shortcutFor({ key: "r", metaKey: true, target: body })).toBeNull();
    expect(shortcutFor({ key: "j", altKey: true, target: body })).toBeNull();
  });
});

describe("moveSelection", () => {
  it("moves and stops at the ends", () => {
    expect(moveSelection([4, 5, 6], 5, 1)).toBe(6);
    expect(moveSelection([4, 5, 6], 6, 1)).toBe(6);
    expect(moveSelection([4, 5, 6], 4, -1)).toBe(4);
    expect(moveSelection([4, 5, 6], null, 1)).toBe(4);
    expect(moveSelection([4, 5, 6], 9, -1)).toBe(6);
    expect(moveSelection([], 1, 1)).toBeNull();
  });
});

describe("single-key shortcuts turned off", () => {
  it("gives no shortcut for any key", () => {
    for (const s of shortcuts) expect(shortcutFor({ key: s.key }, false)).toBeNull();
    expect(shortcutFor({ key: "a" }, true)).toBe("approve");
  });
});

describe("listStep", () => {
  it("moves by a row, a page of eight, or to either end", () => {
    expect(listStep({ key: "ArrowDown" }, 100)).toBe(1);
    expect(listStep({ key: "ArrowUp" }, 100)).toBe(-1);
    expect(listStep({ key: "PageDown" }, 100)).toBe(8);
    expect(listStep({ key: "PageUp" }, 100)).toBe(-8);
    expect(listStep({ key: "Home" }, 100)).toBe(-100);
    expect(listStep({ key: "End" }, 100)).toBe(100);
  });
  it("leaves other keys and modified ones alone", () => {
    expect(listStep({ key: "j" }, 100)).toBeNull();
    expect(listStep({ key: "ArrowDown", altKey: true }, 100)).toBeNull();
    expect(listStep({ key: "End", ctrlKey: true }, 100)).toBeNull();
  });
});
