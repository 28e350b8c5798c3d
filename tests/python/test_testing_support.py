"""Test and benchmark helpers stay out of the shipped engine: they live in cadence._testing
(tests/support, bench/support), and fault injection is a documented seam, not an environment
variable read by production code."""

import ast
import inspect

from cadence import _core, _testing
from cadence.drums import store

HELPERS = ("arrow_type_zoo", "synthetic_load", "drums_encode_clips_floor")


def test_helpers_are_in_the_testing_module_only():
    assert [h for h in HELPERS if hasattr(_core, h)] == []
    assert all(callable(getattr(_testing, h)) for h in HELPERS)


def test_store_reads_nothing_from_the_environment():
    tree = ast.parse(inspect.getsource(store))
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | \
            {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"environ", "getenv"}
    assert store.fault_hook is None and store.FAULT_POINTS == (
        "before_rename", "after_rename", "before_journal", "after_commit")
