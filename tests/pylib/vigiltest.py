"""Shared by the Python test scripts: named checks and the closing 'N passed, M failed' line."""
import sys


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")

    def problems(self, name, problems):
        """One check per case: passes when `problems` is empty, else lists each problem."""
        if not problems:
            self.passed += 1
            return
        self.failed += 1
        print(f"FAIL {name}")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
