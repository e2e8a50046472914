// Every string the UI shows, in German (the reader is addressed with "Sie"), by area in de/.
// The types make each part have exactly the keys of its English part; i18n.test.ts checks
// values and placeholders too.

import { deAdmin } from "./de/admin";
import { deFrame } from "./de/frame";
import { deOutbox } from "./de/outbox";
import type { Dict } from "./en";

export const de: Dict = { ...deFrame, ...deOutbox, ...deAdmin };
