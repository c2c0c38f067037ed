"""The small test runner shared by the IMAP and POP3 integration tests.

run_tests() runs every test_* function of a test file in file order, prints
"ok"/"FAIL" per test with its traceback, stops the servers given (a
server that does not stop cleanly is a failure too, shown with its log),
and ends with the "N passed, M failed" line CI reads.
"""
import sys
import time
import traceback


def run_tests(module_globals, servers=()):
    """Run every test_* function in module_globals, in file order."""
    tests = [(n, f) for n, f in module_globals.items()
             if n.startswith("test_") and callable(f)]
    passed = failed = 0
    for name, fn in tests:
        start = time.time()
        try:
            fn()
            passed += 1
            print("ok   %s (%.2f s)" % (name, time.time() - start))
        except Exception:
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    for s in servers:
        try:
            s.stop()
        except Exception:
            failed += 1
            print("FAIL stopping the server")
            traceback.print_exc(file=sys.stdout)
            print(s.logtext()[-3000:])
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
