import { describe, expect, it } from "vitest";
import { MAX_IMPORT_BYTES, importPayload, toBase64 } from "./files";

describe("toBase64", () => {
  it("keeps every byte, 8-bit ones too", () => {
    // "Grüße" in ISO-8859-1: not valid UTF-8, so File.text() would replace it.
    const latin1 = new Uint8Array([0x47, 0x72, 0xfc, 0xdf, 0x65]);
    expect(toBase64(latin1)).toBe("R3L832U=");
    expect(Array.from(atob(toBase64(latin1)), (c) => c.charCodeAt(0))).toEqual(Array.from(latin1));
  });
  it("handles large files in chunks", () => {
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const back = atob(toBase64(big));
    expect(back.length).toBe(big.length);
    expect(back.charCodeAt(199_999)).toBe(199_999 % 251);
  });
});

describe("importPayload", () => {
  it("refuses a file over the limit without reading it", async () => {
    let read = false;
    const huge = { size: MAX_IMPORT_BYTES + 1, arrayBuffer: async () => ((read = true), new ArrayBuffer(0)) };
    expect(await importPayload(huge)).toBeNull();
    expect(read).toBe(false);
  });
  it("sends a file within the limit as its bytes", async () => {
    const bytes = new Uint8Array([0x47, 0x72, 0xfc, 0xdf, 0x65]);
    const file = { size: bytes.length, arrayBuffer: async () => bytes.buffer };
    expect(await importPayload(file)).toBe("R3L832U=");
  });
});
