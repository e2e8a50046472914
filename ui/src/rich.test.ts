import { describe, expect, it } from "vitest";
import { richParts } from "./rich";

describe("richParts", () => {
  it("splits bold and emphasis", () => {
    expect(richParts("**3** to review · *you*!")).toEqual([
      { kind: "strong", text: "3" },
      { kind: "text", text: " to review · " },
      { kind: "em", text: "you" },
      { kind: "text", text: "!" },
    ]);
    expect(richParts("plain")).toEqual([{ kind: "text", text: "plain" }]);
  });
});
