//! The safe HTML preview of a draft. Draft text comes from an AI engine and from imported
//! files: untrusted. It is sanitized here, in Rust, with `ammonia` (an allow-list of tags and
//! attributes; links only `https:` and `mailto:`; no scripts, styles, event handlers, forms or
//! frames), and remote images are removed until the rep asks for them. The UI shows the result
//! in an iframe sandboxed without scripts and without same-origin, with its own CSP — three
//! layers, each enough alone.
//!
//! Plain-text drafts (the usual case) are escaped and turned into paragraphs and links; the
//! text view shows the exact text that is sent.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use serde::Serialize;

/// What the preview iframe gets.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Preview {
    /// A complete document for `srcdoc`, with a restrictive CSP of its own.
    pub document: String,
    /// Whether the draft contained HTML markup (else it was plain text).
    pub is_html: bool,
    /// Remote images held back (0 when shown or when there were none).
    pub blocked_images: u32,
    /// Elements or attributes the sanitizer removed (scripts, handlers, unsafe links…).
    pub removed: u32,
}

/// Whether `body` looks like HTML rather than text.
pub fn looks_like_html(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    [
        "<p", "<br", "<div", "<a ", "<img", "<table", "<ul", "<ol", "<b>", "<strong", "<em", "<html", "<body", "<span", "<script", "<h1",
        "<h2",
    ]
    .iter()
    .any(|t| lower.contains(t))
}

/// Sanitizes `body` for display; remote images only when `show_images`.
pub fn render(body: &str, show_images: bool) -> Preview {
    let is_html = looks_like_html(body);
    let blocked = Arc::new(AtomicU32::new(0));
    let html = if is_html { sanitize(body, show_images, blocked.clone()) } else { text_to_html(body) };
    let removed = if is_html { count_removed(body, &html) } else { 0 };
    let img_src = if show_images { "https: data:" } else { "data:" };
    let document = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src {img_src}; style-src 'unsafe-inline'\"><meta name=\"referrer\" content=\"no-referrer\"><style>body{{font:14px/1.5 system-ui,sans-serif;margin:12px;color:#1b1f24;background:#fff;word-wrap:break-word}}img{{max-width:100%}}a{{color:#0b5cad}}</style></head><body>{html}</body></html>"
    );
    Preview { document, is_html, blocked_images: blocked.load(Ordering::SeqCst), removed }
}

fn sanitize(body: &str, show_images: bool, blocked: Arc<AtomicU32>) -> String {
    let schemes: HashSet<&str> = ["https", "mailto"].into_iter().collect();
    let mut b = ammonia::Builder::default();
    b.url_schemes(schemes)
        .link_rel(Some("noopener noreferrer nofollow"))
        .strip_comments(true)
        .url_relative(ammonia::UrlRelative::Deny)
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(move |element, attribute, value| {
            if element == "img" && attribute == "src" {
                let remote = !value.trim_start().to_ascii_lowercase().starts_with("data:");
                if remote && !show_images {
                    blocked.fetch_add(1, Ordering::SeqCst);
                    return None;
                }
            }
            Some(value.into())
        });
    b.clean(body).to_string()
}

/// A rough count of what the sanitizer took out, for the "n unsafe items removed" note.
fn count_removed(raw: &str, clean: &str) -> u32 {
    let lower = raw.to_ascii_lowercase();
    let clean = clean.to_ascii_lowercase();
    let mut n = 0;
    for needle in ["<script", "<iframe", "<object", "<embed", "<form", "<style", "javascript:", "vbscript:", "<svg", "<meta", "<link"] {
        n += lower.matches(needle).count().saturating_sub(clean.matches(needle).count());
    }
    // on* event handler attributes
    let handlers = |s: &str| {
        s.split(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'').filter(|w| w.starts_with("on") && w.contains('=')).count()
    };
    n += handlers(&lower).saturating_sub(handlers(&clean));
    n as u32
}

/// Plain text as paragraphs, with `https://` and `mailto:` links.
fn text_to_html(text: &str) -> String {
    let mut out = String::new();
    for para in text.replace("\r\n", "\n").split("\n\n") {
        out.push_str("<p>");
        let lines: Vec<String> = para.lines().map(linkify).collect();
        out.push_str(&lines.join("<br>"));
        out.push_str("</p>");
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn linkify(line: &str) -> String {
    line.split(' ')
        .map(|w| {
            let esc = escape(w);
            if (w.starts_with("https://") || w.starts_with("mailto:")) && !w.contains(['"', '<', '>']) {
                format!("<a href=\"{esc}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">{esc}</a>")
            } else {
                esc
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_unsafe_links_are_removed() {
        let hostile = r#"<p onclick="alert(1)">Hi <b>there</b></p><script>fetch('https://x.example/steal')</script>
<a href="javascript:alert(1)">click</a> <a href="https://ok.example/">ok</a> <a href="mailto:a@b.example">mail</a>
<a href="http://plain.example/">plain</a><img src="https://tracker.example/p.gif" onerror="alert(2)"><iframe src="https://x.example"></iframe>
<svg onload="alert(3)"></svg><form action="https://x.example"><input name=a></form><style>body{background:url(https://x.example)}</style>"#;
        let p = render(hostile, false);
        let d = p.document.to_ascii_lowercase();
        for bad in [
            "<script",
            "onclick",
            "onerror",
            "onload",
            "javascript:",
            "<iframe",
            "<svg",
            "<form",
            "<input",
            "tracker.example",
            "http://plain",
            "url(https://x",
        ] {
            assert!(!d.contains(bad), "{bad} survived: {d}");
        }
        assert!(d.contains("href=\"https://ok.example/\"") && d.contains("href=\"mailto:a@b.example\""), "{d}");
        assert!(d.contains("default-src 'none'") && d.contains("img-src data:"), "own CSP");
        assert_eq!(p.blocked_images, 1);
        assert!(p.is_html && p.removed >= 5, "{p:?}");
        let shown = render(hostile, true);
        assert!(shown.document.contains("https://tracker.example/p.gif") && shown.document.contains("img-src https: data:"));
        assert!(!shown.document.to_ascii_lowercase().contains("onerror"));
    }

    #[test]
    fn plain_text_is_escaped_and_linked() {
        let p = render("Hallo <Frau> Weber,\n\nsiehe https://roboplanet.example/demo & mailto:x@y.example\nGrüße", false);
        assert!(!p.is_html);
        assert!(p.document.contains("Hallo &lt;Frau&gt; Weber,"));
        assert!(p.document.contains("<a href=\"https://roboplanet.example/demo\""));
        assert!(p.document.contains("&amp;") && p.document.contains("<br>Grüße"));
    }
}
