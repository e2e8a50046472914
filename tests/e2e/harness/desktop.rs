//! Part of the end-to-end harness: the desktop around the app, seen from outside it. The X11
//! clipboard (xclip), the input focus and the app's window (xdotool), and a desktop
//! notification server on the session bus (`tests/e2e/notifyd.py`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{apps_on, root};

/// The X11 CLIPBOARD selection as another X client on the app's display reads it
/// (`xclip -selection clipboard -o`, UTF-8); `None` when no client owns the selection.
pub fn x_clipboard() -> Option<String> {
    let out = Command::new("timeout")
        .args(["5", "xclip", "-selection", "clipboard", "-t", "UTF8_STRING", "-o"])
        .stdin(Stdio::null())
        .output()
        .expect("run xclip (apt-get install xclip)");
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Takes the CLIPBOARD selection for another X client holding `text` (xclip, which stays in the
/// background until some client takes the selection from it), so a test starts from known
/// clipboard contents.
pub fn x_clipboard_set(text: &str) {
    use std::io::Write as _;
    let mut child = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run xclip (apt-get install xclip)");
    child.stdin.take().expect("xclip stdin").write_all(text.as_bytes()).expect("write to xclip");
    // xclip forks into the background once it owns the selection; the parent's exit says so.
    let _ = child.wait();
    assert_eq!(x_clipboard().as_deref(), Some(text), "xclip did not take the clipboard");
}

fn xdotool(args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg("5")
        .arg("xdotool")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run xdotool (apt-get install xdotool)");
    assert!(out.status.success(), "xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The X window that has the input focus (`xdotool getwindowfocus`; the root window or
/// PointerRoot show up as their own ids).
pub fn x_focus() -> String {
    xdotool(&["getwindowfocus", "-f"])
}

/// The app's top-level X window: the visible window of the app process running on `data`
/// named like the app (its `_NET_WM_PID` is the process).
pub fn x_app_window(data: &Path) -> String {
    let pids = apps_on(data);
    assert_eq!(pids.len(), 1, "one app on {}: {pids:?}", data.display());
    let ids = xdotool(&["search", "--all", "--onlyvisible", "--pid", &pids[0].to_string(), "--name", "SuperOffice Outbox"]);
    let ids: Vec<&str> = ids.lines().collect();
    assert_eq!(ids.len(), 1, "one visible top-level window of the app: {ids:?}");
    ids[0].to_owned()
}

/// Gives the X input focus to `window` (XSetInputFocus; there is no window manager on the
/// test display to ask).
pub fn x_set_focus(window: &str) {
    xdotool(&["windowfocus", "--sync", window]);
}

/// A desktop notification server on the session bus (`tests/e2e/notifyd.py`): every
/// `Notify` call it receives is a line in `log`. Stopped (SIGTERM) when dropped.
pub struct Notifyd {
    child: Child,
    pub log: PathBuf,
}

impl Notifyd {
    /// Starts the server and waits until it owns `org.freedesktop.Notifications`.
    pub fn start(log: &Path) -> Notifyd {
        let _ = std::fs::remove_file(log);
        // The system Python: python3-dbus and python3-gi are Debian packages.
        let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let child = Command::new(python)
            .arg(root().join("tests/e2e/notifyd.py"))
            .arg(log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tests/e2e/notifyd.py");
        let mut server = Notifyd { child, log: log.to_owned() };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !log.exists() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = server.child.stderr.take() {
                    use std::io::Read as _;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the notification server exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "the notification server did not own its name within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The notifications received so far (`Notify` calls, oldest first).
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("summary").is_some())
            .collect()
    }
}

impl Drop for Notifyd {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The root window of the display (`xdotool search --maxdepth 0`).
pub fn x_root_window() -> String {
    xdotool(&["search", "--maxdepth", "0", "--name", ""])
}

/// Puts the pointer and the X focus back as they were (the focus on PointerRoot, as the X
/// server starts) when dropped, so the next test's window starts focused as usual.
pub struct XFocusRestore {
    x: String,
    y: String,
}

impl XFocusRestore {
    pub fn new() -> XFocusRestore {
        let at = xdotool(&["getmouselocation", "--shell"]);
        let get = |k: &str| at.lines().find_map(|l| l.strip_prefix(k)).unwrap_or("0").to_owned();
        XFocusRestore { x: get("X="), y: get("Y=") }
    }
}

impl Drop for XFocusRestore {
    fn drop(&mut self) {
        for args in [vec!["mousemove", "--sync", &self.x, &self.y], vec!["windowfocus", "1"]] {
            let _ = Command::new("timeout").arg("5").arg("xdotool").args(&args).stderr(Stdio::null()).status();
        }
    }
}

/// Takes the keyboard focus away from every window: the pointer goes to the screen's
/// bottom-right corner, over no window, and the X focus to the root window. (With the focus on
/// the root, or PointerRoot as an X server starts, the window under the pointer gets the
/// keyboard, and GTK counts that as focused; there is no window manager here.)
pub fn x_focus_nothing() {
    let size = xdotool(&["getdisplaygeometry"]);
    let (w, h) = size.split_once(' ').expect("display geometry");
    let (x, y) = (w.parse::<u32>().expect("width") - 1, h.parse::<u32>().expect("height") - 1);
    xdotool(&["mousemove", "--sync", &x.to_string(), &y.to_string()]);
    let root = x_root_window();
    let under = xdotool(&["getmouselocation", "--shell"]);
    assert!(under.lines().any(|l| l == format!("WINDOW={root}")), "the pointer is over the root window only: {under}");
    x_set_focus(&root);
}
