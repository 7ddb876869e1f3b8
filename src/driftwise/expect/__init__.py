"""Data expectations: declarative per-column quality rules, evaluated per window, and
suggested from a reference with margins whose false-failure rate is stated
(docs/expectations.md)."""

from driftwise.expect.check import Outcome, SuiteResult, evaluate
from driftwise.expect.suggest import suggest
from driftwise.expect.suite import ExpectationSuite, load_suite, parse_suite

__all__ = ["ExpectationSuite", "Outcome", "SuiteResult", "evaluate", "load_suite",
           "parse_suite", "suggest"]
