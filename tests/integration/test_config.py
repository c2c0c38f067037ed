"""mailvault config: list, get, set, with every value checked before it is
saved and a clear error for a bad key or value; settings are sealed like
everything else in the store."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mvtest import Store                                 # noqa: E402
from runner import expect, run_tests                     # noqa: E402

st = Store("config")


def get(key):
    return st.mv("config", "get", key).stdout.strip()


def test_defaults():
    expect(re.search(r"^imap-port *1143", st.mv("config", "list").stdout,
                     re.M), "default imap-port")
    expect(get("pop3-delete") == "hide", "default pop3-delete")


def test_set_saves_the_value_and_says_when_a_restart_is_needed():
    expect("restart" in st.mv("config", "set", "imap-port", "2143").stdout,
           "a port change must say it needs a restart")
    expect(get("imap-port") == "2143", "imap-port was not saved")
    st.mv("config", "set", "pop3-delete", "expunge")
    expect(get("pop3-delete") == "expunge", "pop3-delete was not saved")
    st.mv("config", "set", "listen", "::1")
    d = json.loads(st.mv("--json", "config", "list").stdout)
    expect(d["listen"] == "::1" and d["imap-port"] == "2143", d)


def test_bad_keys_and_values_are_refused_and_change_nothing():
    st.fails("unknown key", "config", "set", "colour", "blue")
    st.fails("port out of range", "config", "set", "imaps-port", "70000")
    st.fails("port not a number", "config", "set", "pop3-port", "abc")
    p = st.fails("non-loopback listen", "config", "set", "listen",
                 "0.0.0.0")
    expect("loopback" in p.stderr, "the listen error must say loopback")
    st.fails("bad choice", "config", "set", "log-level", "loud")
    st.fails("poll interval too small", "config", "set", "poll-interval",
             "1")
    st.fails("missing value", "config", "set", "imap-port")
    expect(get("imap-port") == "2143", "a refused value changed the setting")


def test_settings_are_sealed():
    st.mv("config", "set", "listen", "127.0.0.42")
    for f in (st.path, st.path + "-wal"):
        if os.path.exists(f):
            with open(f, "rb") as fh:
                expect(b"127.0.0.42" not in fh.read(),
                       "a setting is readable in " + f)


run_tests(globals())
