// Every string the UI shows, in English: this dictionary defines the keys. Placeholders are
// `{name}`; `**text**` is bold and `*text*` emphasis where Rich.svelte renders the string. The
// words are in en/, by area; the error codes' and the diagnostics' in errors-en.ts and
// findings-en.ts.

import { enAdmin } from "./en/admin";
import { enFrame } from "./en/frame";
import { enOutbox } from "./en/outbox";

export const en = { ...enFrame, ...enOutbox, ...enAdmin } as const;

export type Key = keyof typeof en;
export type Dict = Record<Key, string>;
