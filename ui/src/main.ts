import { mount } from "svelte";
// The styles, in cascade order: the frame first, then each area.
import "./app.css";
import "./styles/shared.css";
import "./styles/diagnostics.css";
import "./styles/list.css";
import "./styles/forms.css";
import App from "./App.svelte";

// Uncaught errors are kept (the end-to-end tests read them: a flow must end with none).
type ErrorLog = { __uiErrors?: string[] };
const log = (msg: string) => ((window as unknown as ErrorLog).__uiErrors ??= []).push(msg);
window.addEventListener("error", (e) => log(String(e.message ?? e)));
window.addEventListener("unhandledrejection", (e) => log(`unhandled: ${e.reason instanceof Error ? e.reason.message : JSON.stringify(e.reason)}`));

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");
export default mount(App, { target });
