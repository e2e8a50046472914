// Reading a file for import: its exact bytes, base64-encoded for the command (an 8-bit .eml is
// not text in any one charset), and refused by size before it is read or sent at all.

/** The largest file the outbox imports (the core refuses larger ones too). */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

/** Standard base64 of `bytes`, in chunks (no call stack limit for large files). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** What a file is for the import command: its bytes as base64, or `null` (without reading a
 *  byte of it) when it is larger than the outbox imports. */
export async function importPayload(file: Pick<Blob, "size" | "arrayBuffer">): Promise<string | null> {
  if (file.size > MAX_IMPORT_BYTES) return null;
  return toBase64(new Uint8Array(await file.arrayBuffer()));
}
