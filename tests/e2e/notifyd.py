#!/usr/bin/python3
"""A tiny desktop notification server for the end-to-end tests.

Owns org.freedesktop.Notifications on the session bus (DBUS_SESSION_BUS_ADDRESS, the private
bus tests/e2e/run.sh and scripts/test.sh start) and implements the Desktop Notifications
Specification's methods: Notify appends one JSON line per notification to LOG and answers a
new id; GetCapabilities, GetServerInformation and CloseNotification answer like a server that
shows body text. Nothing is displayed.

    /usr/bin/python3 tests/e2e/notifyd.py LOG

LOG is created (empty) once the name is owned: a test waits for the file before it counts on
the server. Needs the system Python with python3-dbus and python3-gi (GLib main loop).
"""

import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, PATH)
        self.log = log
        self.last_id = 0

    def record(self, entry):
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout):
        if replaces_id:
            nid = int(replaces_id)
        else:
            self.last_id += 1
            nid = self.last_id
        self.record(
            {
                "id": nid,
                "app_name": str(app_name),
                "replaces_id": int(replaces_id),
                "summary": str(summary),
                "body": str(body),
                "actions": [str(a) for a in actions],
                "hints": sorted(str(k) for k in hints.keys()),
                "expire_timeout": int(expire_timeout),
            }
        )
        return dbus.UInt32(nid)

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return dbus.Array(["body", "actions"], signature="s")

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("so-outbox-e2e-notifyd", "so-outbox", "1.0", "1.2")

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        self.record({"closed": int(nid)})
        # 3 = closed by a call to CloseNotification
        self.NotificationClosed(nid, dbus.UInt32(3))

    @dbus.service.signal(NAME, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(NAME, signature="us")
    def ActionInvoked(self, nid, action_key):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: notifyd.py LOG")
    log = sys.argv[1]
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    # Fails (NameExistsException) when another notification server already runs on this bus:
    # the test would otherwise count notifications that went elsewhere.
    name = dbus.service.BusName(NAME, bus, do_not_queue=True)
    server = Server(bus, log)
    open(log, "a", encoding="utf-8").close()
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)  # SIGTERM
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, loop.quit)  # SIGINT
    loop.run()
    del server, name


if __name__ == "__main__":
    main()
