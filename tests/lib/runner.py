"""The one runner of the integration tests (tests/integration/test_*.py).

A test file is a module: its shared setup is module-level code (a store,
a served store, a Dovecot), its tests are test_* functions named for the
behaviour they prove, run in file order (so a test may build on the state
an earlier one left), and it ends with

    run_tests(globals(), servers=[srv])

which runs every test_* function, prints "ok"/"FAIL"/"skip" per test (a
failure with its traceback), stops the servers and whatever was handed to
stop_at_end() (a server that does not stop cleanly is a failure too,
shown with its log when it has a logtext()), and ends with the line
"N passed, M failed" (", K skipped" after it when some were). The exit
status says the same.

    expect(cond, what)  an assertion that reads as a sentence
    skip(reason)        inside a test: it cannot run here (a tool is
                        missing); counted apart, never as passed
    stop_at_end(x)      stop x (x.stop(), or x() if it is a function)
                        after the tests, last registered first; also when
                        the setup fails before run_tests() is reached

A setup that raises before run_tests() is reported as a failed "setup",
with its traceback, after which what was registered is stopped and the
"0 passed, 1 failed" line printed: every file ends with its count.
"""
import atexit
import sys
import time
import traceback


class Skip(Exception):
    """A test that cannot run here; its message says why."""


def skip(reason):
    raise Skip(reason)


def expect(cond, what):
    """Fail the test with the sentence what unless cond holds."""
    if not cond:
        raise AssertionError(what)


_to_stop = []
_done = [False]


def stop_at_end(thing):
    """Stop thing after the tests (see the module comment); returns it."""
    _to_stop.append(thing)
    return thing


def _stop(thing):
    """Stop one server or call one cleanup; 0, or 1 if it failed."""
    try:
        if callable(thing) and not hasattr(thing, "stop"):
            thing()
        else:
            thing.stop()
        return 0
    except Exception:
        print("FAIL stopping %s" % getattr(thing, "__name__",
                                           type(thing).__name__))
        traceback.print_exc(file=sys.stdout)
        if hasattr(thing, "logtext"):
            print(thing.logtext()[-3000:])
        return 1


def _stop_all():
    failed = 0
    while _to_stop:
        failed += _stop(_to_stop.pop())
    return failed


def _run_one(name, fn):
    """Run one test: "passed", "failed" or "skipped"."""
    start = time.time()
    try:
        fn()
        print("ok   %s (%.2f s)" % (name, time.time() - start))
        return "passed"
    except Skip as e:
        print("skip %s: %s" % (name, e))
        return "skipped"
    except Exception:
        print("FAIL %s (%.2f s)" % (name, time.time() - start))
        traceback.print_exc(file=sys.stdout)
        return "failed"
    finally:
        sys.stdout.flush()


def _summary(n):
    line = "%d passed, %d failed" % (n["passed"], n["failed"])
    if n["skipped"]:
        line += ", %d skipped" % n["skipped"]
    print(line)
    sys.stdout.flush()


def run_tests(module_globals, servers=()):
    """Run every test_* function in module_globals, in file order, then
    stop servers and what stop_at_end() was given; exit 1 if any failed."""
    tests = [(n, f) for n, f in module_globals.items()
             if n.startswith("test_") and callable(f)]
    n = {"passed": 0, "failed": 0, "skipped": 0}
    for name, fn in tests:
        n[_run_one(name, fn)] += 1
    for s in servers:
        n["failed"] += _stop(s)
    n["failed"] += _stop_all()
    _done[0] = True
    _summary(n)
    sys.exit(1 if n["failed"] else 0)


def _setup_failed(kind, value, tb):
    """sys.excepthook: the module's setup raised before run_tests()."""
    print("FAIL setup")
    traceback.print_exception(kind, value, tb, file=sys.stdout)
    _stop_all()
    _done[0] = True
    _summary({"passed": 0, "failed": 1, "skipped": 0})


def _exit_without_summary():
    """A file that exits before run_tests() (sys.exit() in its setup)
    still stops what it started."""
    if not _done[0]:
        _stop_all()


sys.excepthook = _setup_failed
atexit.register(_exit_without_summary)
