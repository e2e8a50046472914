#!/usr/bin/env python3
"""Plays the rep's system browser in tests (set as $BROWSER, which xdg-open honours).

Opens the URL it is given. On a simulator's consent page (SuperOffice's, or the Microsoft 365
/ Google mailbox simulator's) it presses "Allow" and follows the
redirect back to the app's loopback listener, like a real browser; any other page (an archived
document opened "in SuperOffice") is just fetched. Only loopback URLs are visited. Writes what
it did to $BROWSER_LOG when set.
"""
import os
import re
import sys
import urllib.parse
import urllib.request


def log(msg: str) -> None:
    path = os.environ.get("BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(msg + "\n")


def main() -> int:
    url = sys.argv[-1]
    host = urllib.parse.urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        log(f"refusing non-loopback URL host {host}")
        return 2
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    resp = opener.open(url, timeout=20)
    page = resp.read().decode("utf-8", "replace")
    m = re.search(r'name="request_id" value="([^"]+)"', page)
    if not m:
        path = urllib.parse.urlparse(url)
        log(f"opened {path.path}?{path.query} ({resp.status}, {len(page)} bytes, no consent form)")
        return 0
    form = urllib.parse.urlencode({"request_id": m.group(1), "decision": "allow"}).encode()
    # The consent form names where it posts (the SuperOffice simulator's authorize endpoint,
    # the mailbox simulator's consent path).
    action_match = re.search(r'<form[^>]*action="([^"]+)"', page)
    action = urllib.parse.urljoin(url, action_match.group(1) if action_match else "/login/common/oauth/authorize")
    # The consent answer redirects (303) to the app's loopback listener; urllib follows it.
    final = opener.open(action, data=form, timeout=20)
    log(f"consent given; landed with status {final.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
