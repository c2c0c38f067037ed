"""Integration: folder renames against a real Dovecot, both ways.

IMAP says nothing when a folder is renamed: the old name is gone and a new
one appears. Dovecot keeps a folder's UIDVALIDITY across RENAME, and the
engine takes a new folder with the UIDVALIDITY of a vanished one for the
same folder renamed. Shown: after RENAMEs upstream (a plain folder, and
one inside a hierarchy) a sync renames the local mailboxes, keeps every
local UID and downloads nothing (the summary says 0 new); a local rename
goes up as a RENAME (the remote UIDs and UIDVALIDITY stay, nothing is
uploaded); a folder deleted upstream is still deleted here.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from runner import expect, run_tests, stop_at_end        # noqa: E402
from upstream import Env, compare, local_uids            # noqa: E402


def remote_ids(env, folder):
    """(UIDVALIDITY, [UIDs]) of a remote folder."""
    r = env.remote()
    try:
        typ, data = r.select('"%s"' % folder.replace("/", "."),
                             readonly=True)
        expect(typ == "OK", "no remote folder " + folder)
        uv = int(re.search(rb"\d+", r.untagged_responses["UIDVALIDITY"][0])
                 .group(0))
        typ, data = r.uid("SEARCH", "ALL")
        return uv, [int(x) for x in data[0].split()]
    finally:
        r.logout()


def sync(env):
    summary, p = env.sync_json("acc")
    return summary, p.stderr


env = stop_at_end(Env("rename"))
counts = {"INBOX": 20, "Archive": 60, "Lists/dev": 40, "Doomed": 5}
env.populate(counts, seed=3)
env.add_imap()
env.sync("acc")
expect(compare(env) == sum(counts.values()), "initial sync incomplete")


def test_remote_renames_become_local_renames_and_a_delete_a_delete():
    """Remote RENAMEs become local renames: same UIDs, nothing fetched; a
    remote delete is still a delete."""
    before = {f: local_uids(env, f) for f in ("Archive", "Lists/dev")}
    ids = remote_ids(env, "Archive")
    r = env.remote()
    r.rename("Archive", '"Archive 2020"')
    r.rename("Lists.dev", "Groups.dev")
    r.delete("Doomed")
    r.logout()
    expect(remote_ids(env, "Archive 2020") == ids, "Dovecot changed "
           "the UIDVALIDITY on RENAME: the premise does not hold")
    summary, out = sync(env)
    expect(summary["fetched"] == 0 and summary["bytes"] == 0,
           "messages were downloaded again: %s" % summary)
    expect("renamed upstream to Archive 2020" in out and
           "renamed upstream to Groups/dev" in out,
           "the renames are not said: " + out)
    compare(env)
    expect(local_uids(env, "Archive 2020") == before["Archive"],
           "local UIDs of Archive changed")
    expect(local_uids(env, "Groups/dev") == before["Lists/dev"],
           "local UIDs of Lists/dev changed")
    loc = env.local()
    typ, _ = loc.select("Doomed")
    loc.logout()
    expect(typ != "OK", "a folder deleted upstream is still here")


def test_a_local_rename_goes_up_as_a_rename():
    ids = remote_ids(env, "Archive 2020")
    loc = env.local()
    typ, _ = loc.rename('"Archive 2020"', '"Archive Old"')
    loc.logout()
    expect(typ == "OK", "local RENAME refused")
    summary, out = sync(env)
    expect(summary["fetched"] == 0 and summary["appended"] == 0,
           "messages moved over the wire: %s" % summary)
    expect(remote_ids(env, "Archive Old") == ids, "the remote folder "
           "was not renamed (new UIDVALIDITY or UIDs)")
    compare(env)


run_tests(globals())
