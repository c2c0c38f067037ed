"""IMAP mailbox commands: CREATE, DELETE, RENAME (INBOX included), SUBSCRIBE,
UNSUBSCRIBE, LIST and LSUB with wildcards and modified UTF-7 names,
LIST-EXTENDED selection and return options, LIST-STATUS, STATUS, NAMESPACE,
ID, ENABLE, and the RFC 5530 codes of their failures."""
from imaptest import Server, run_tests, status, NCORPUS

srv = Server()
r = srv.raw()


def names(lines, kind="LIST"):
    out = []
    for l in lines:
        if l.startswith("* %s " % kind):
            out.append(l.rsplit(' "/" ', 1)[1].split(' ("CHILDINFO"')[0])
    return out


def attrs(lines, name):
    for l in lines:
        if l.endswith(' "/" ' + name) and (l.startswith("* LIST") or l.startswith("* LSUB")):
            return l.split("(", 1)[1].split(")", 1)[0].split()
    raise AssertionError("%s not listed in %r" % (name, lines))


def test_create_list_and_children():
    r.ok("CREATE Work")
    r.ok("CREATE Work/Projects/2024")
    r.ok("CREATE Archive/")
    lines = r.ok('LIST "" *')
    assert names(lines) == ["INBOX", "Archive", "Work", "Work/Projects",
                            "Work/Projects/2024"], lines
    assert attrs(lines, "Work") == ["\\HasChildren"]
    assert attrs(lines, "Work/Projects/2024") == ["\\HasNoChildren"]
    assert names(r.ok('LIST "" %')) == ["INBOX", "Archive", "Work"]
    assert names(r.ok('LIST "" Work/%')) == ["Work/Projects"]
    assert names(r.ok('LIST Work/ %')) == ["Work/Projects"]
    assert names(r.ok('LIST "" *2024')) == ["Work/Projects/2024"]
    assert names(r.ok('LIST "" inbox')) == ["INBOX"]


def test_list_empty_pattern_gives_the_delimiter():
    lines = r.ok('LIST "" ""')
    assert lines == ['* LIST (\\Noselect) "/" ""'], lines


def test_create_errors():
    _, t = r.cmd("CREATE Work")
    assert t.split(" ", 2)[1:] == ["NO", "[ALREADYEXISTS] Mailbox already exists"], t
    _, t = r.cmd("CREATE inbox")
    assert status(t) == "NO" and "[ALREADYEXISTS]" in t, t
    _, t = r.cmd('CREATE "a//b"')
    assert status(t) == "NO" and "[CANNOT]" in t, t
    _, t = r.cmd("CREATE")
    assert status(t) == "BAD", t


def test_modified_utf7_names_in_and_out():
    r.ok('CREATE "Caf&AOk-"')
    r.ok('CREATE "&ZeVnLIqe-"')
    lines = r.ok('LIST "" *')
    assert "Caf&AOk-" in names(lines) and "&ZeVnLIqe-" in names(lines), lines
    assert names(r.ok('LIST "" Caf*')) == ["Caf&AOk-"]
    _, t = r.cmd('CREATE "bad&-name&"')
    assert status(t) == "NO", t
    lines = r.ok('STATUS "Caf&AOk-" (MESSAGES)')
    assert lines == ["* STATUS Caf&AOk- (MESSAGES 0)"], lines


def test_delete():
    r.ok("CREATE Trash2")
    r.ok("DELETE Trash2")
    assert "Trash2" not in names(r.ok('LIST "" *'))
    _, t = r.cmd("DELETE Trash2")
    assert status(t) == "NO" and "[NONEXISTENT]" in t, t
    _, t = r.cmd("DELETE INBOX")
    assert status(t) == "NO", t
    # A parent goes, its children stay, and its name lists as \\Noselect
    # until it is made again or its last child goes (RFC 3501 6.3.4).
    r.ok("CREATE Tmp/Sub")
    r.ok("DELETE Tmp")
    lines = r.ok('LIST "" Tmp*')
    assert attrs(lines, "Tmp") == ["\\Noselect", "\\HasChildren"], lines
    assert names(lines) == ["Tmp", "Tmp/Sub"], lines
    _, t = r.cmd("SELECT Tmp")
    assert status(t) == "NO", t
    r.ok("CREATE Tmp")
    assert attrs(r.ok('LIST "" Tmp'), "Tmp") == ["\\HasChildren"]
    r.ok("DELETE Tmp")
    r.ok("DELETE Tmp/Sub")
    assert r.ok('LIST "" Tmp*') == []


def test_rename_with_children():
    r.ok("CREATE Old/Sub")
    r.ok("RENAME Old New")
    n = names(r.ok('LIST "" *'))
    assert "New" in n and "New/Sub" in n and "Old" not in n and "Old/Sub" not in n, n
    _, t = r.cmd("RENAME Nothing Else")
    assert status(t) == "NO" and "[NONEXISTENT]" in t, t
    _, t = r.cmd("RENAME New Work")
    assert status(t) == "NO" and "[ALREADYEXISTS]" in t, t


def test_rename_inbox_moves_its_messages():
    s2 = Server(name="renameinbox")
    try:
        c = s2.raw()
        c.ok("RENAME INBOX Saved")
        lines = c.ok("STATUS INBOX (MESSAGES)")
        assert lines == ["* STATUS INBOX (MESSAGES 0)"], lines
        lines = c.ok("STATUS Saved (MESSAGES)")
        assert lines == ["* STATUS Saved (MESSAGES %d)" % NCORPUS], lines
        c.close()
    finally:
        s2.stop()


def test_subscribe_and_lsub():
    r.ok("SUBSCRIBE Work/Projects")
    r.ok("SUBSCRIBE INBOX")
    lines = r.ok('LSUB "" *')
    assert sorted(names(lines, "LSUB")) == ["INBOX", "Work/Projects"], lines
    # A parent that is not subscribed shows as \Noselect under %.
    lines = r.ok('LSUB "" %')
    assert "Work" in names(lines, "LSUB"), lines
    assert "\\Noselect" in attrs(lines, "Work"), lines
    _, t = r.cmd("SUBSCRIBE Nowhere")
    assert status(t) == "NO" and "[NONEXISTENT]" in t, t
    r.ok("UNSUBSCRIBE INBOX")
    assert names(r.ok('LSUB "" *'), "LSUB") == ["Work/Projects"]


def test_list_extended():
    lines = r.ok('LIST (SUBSCRIBED) "" *')
    assert names(lines) == ["Work/Projects"], lines
    assert "\\Subscribed" in attrs(lines, "Work/Projects")
    lines = r.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" %')
    assert names(lines) == ["Work"], lines
    assert lines[0].endswith('Work ("CHILDINFO" ("SUBSCRIBED"))'), lines
    lines = r.ok('LIST "" (INBOX Archive) RETURN (SUBSCRIBED CHILDREN)')
    assert names(lines) == ["INBOX", "Archive"], lines
    assert attrs(lines, "INBOX") == ["\\HasNoChildren"], lines
    lines = r.ok('LIST "" Work RETURN ()')
    assert attrs(lines, "Work") == [], lines
    _, t = r.cmd('LIST (RECURSIVEMATCH) "" *')
    assert status(t) == "BAD", t
    _, t = r.cmd('LIST (BOGUS) "" *')
    assert status(t) == "BAD", t


def test_special_use():
    # CREATE-SPECIAL-USE is understood though not advertised (sync sets
    # special use from upstreams; this is how a test sets it).
    r.ok("CREATE Sent (USE (\\Sent))")
    r.ok("CREATE Bin (USE (\\Trash \\Junk))")
    _, t = r.cmd("CREATE Odd (USE (\\Bogus))")
    assert status(t) == "NO" and "[USEATTR]" in t, t
    lines = r.ok('LIST "" *')
    assert attrs(lines, "Sent") == ["\\HasNoChildren", "\\Sent"], lines
    assert attrs(lines, "Bin") == ["\\HasNoChildren", "\\Junk", "\\Trash"], lines
    lines = r.ok('LIST (SPECIAL-USE) "" *')
    assert sorted(names(lines)) == ["Bin", "Sent"], lines
    lines = r.ok('LIST "" Sent RETURN (SPECIAL-USE)')
    assert attrs(lines, "Sent") == ["\\Sent"], lines
    lines = r.ok('LIST "" Sent RETURN (CHILDREN)')
    assert attrs(lines, "Sent") == ["\\HasNoChildren"], lines


def test_list_status():
    lines = r.ok('LIST "" INBOX RETURN (STATUS (MESSAGES UIDNEXT UNSEEN))')
    assert lines == ['* LIST () "/" INBOX',
                     "* STATUS INBOX (MESSAGES %d UIDNEXT %d UNSEEN %d)"
                     % (NCORPUS, NCORPUS + 1, NCORPUS)], lines


def test_status_items_and_errors():
    lines = r.ok("STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
    assert lines[0].startswith("* STATUS INBOX (MESSAGES %d RECENT %d UIDNEXT %d UIDVALIDITY "
                               % (NCORPUS, NCORPUS, NCORPUS + 1)), lines
    _, t = r.cmd("STATUS Nowhere (MESSAGES)")
    assert status(t) == "NO" and "[NONEXISTENT]" in t, t
    _, t = r.cmd("STATUS INBOX (BOGUS)")
    assert status(t) == "BAD", t
    _, t = r.cmd("STATUS INBOX MESSAGES")
    assert status(t) == "BAD", t


def test_namespace_id_enable():
    assert r.ok("NAMESPACE") == ['* NAMESPACE (("" "/")) NIL NIL']
    lines = r.ok('ID ("name" "test" "version" "1")')
    assert lines[0].startswith('* ID ("name" "mailvault"'), lines
    assert r.ok("ID NIL")[0].startswith("* ID (")
    assert r.ok("ENABLE CONDSTORE X-UNKNOWN") == ["* ENABLED CONDSTORE"]
    assert r.ok("ENABLE CONDSTORE") == ["* ENABLED"]
    assert r.ok("ENABLE QRESYNC") == ["* ENABLED QRESYNC"]


def test_select_examine_and_missing():
    c = srv.raw()
    lines = c.ok("EXAMINE INBOX")
    assert "* %d EXISTS" % NCORPUS in lines, lines
    assert "* OK [PERMANENTFLAGS ()] Read-only mailbox." in lines, lines
    _, t = c.cmd("SELECT Nowhere")
    assert status(t) == "NO" and "[NONEXISTENT]" in t, t
    # A failed SELECT leaves no mailbox selected.
    _, t = c.cmd("FETCH 1 FLAGS")
    assert status(t) == "BAD", t
    c.close()


def test_delete_selected_mailbox_elsewhere_ends_that_session():
    r.ok("CREATE Doomed")
    other = srv.raw()
    other.ok("SELECT Doomed")
    r.ok("DELETE Doomed")
    other.send("x NOOP\r\n")
    assert other.line().startswith("* BYE"), "no BYE"
    other.close()


run_tests(globals(), [srv])
