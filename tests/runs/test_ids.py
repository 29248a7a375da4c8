from __future__ import annotations

import random
import subprocess
import sys

import pytest

from gittrack.errors import InvalidKeyError
from gittrack.git.namespace import is_valid_ref_component
from gittrack.runs.ids import _ALPHABET, check_run_id, is_valid_run_id, new_run_id
from gittrack.runs.names import random_name


def test_shape() -> None:
    rid = new_run_id()
    assert len(rid) == 26
    assert set(rid) <= set(_ALPHABET)
    assert is_valid_ref_component(rid)


def test_ids_sort_by_creation_time() -> None:
    times = [1.0, 1_000.0, 1_700_000_000.0, 1_700_000_000.001, 4_000_000_000.0]
    ids = [new_run_id(t) for t in times]
    assert ids == sorted(ids)


def test_unique_even_within_one_millisecond() -> None:
    ids = {new_run_id(1_700_000_000.0) for _ in range(2000)}
    assert len(ids) == 2000


def test_random_seed_does_not_make_runs_collide() -> None:
    random.seed(0)
    a = new_run_id(1_700_000_000.0)
    random.seed(0)
    b = new_run_id(1_700_000_000.0)
    assert a != b


def test_seeded_processes_do_not_collide() -> None:
    code = ("import random; random.seed(0); from gittrack.runs.ids import new_run_id; "
            "print(new_run_id(1.0))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(outs) == 2


def test_names_end_with_the_id_and_are_not_ids() -> None:
    rid = new_run_id()
    name = random_name(rid)
    assert name.endswith(rid[-4:]) and name.count("-") == 2


@pytest.mark.parametrize("value", ["my-run", "run_1.2", "A1", "x" * 128])
def test_user_ids_that_are_accepted(value: str) -> None:
    assert check_run_id(value) == value


@pytest.mark.parametrize("value", ["", "a/b", "../x", "a b", ".x", "x.lock", "x" * 129, 5, None])
def test_user_ids_that_are_refused(value: object) -> None:
    with pytest.raises(InvalidKeyError, match="run id"):
        check_run_id(value)


def test_derived_ids_are_stable_valid_and_sort_by_their_time() -> None:
    from gittrack.runs.ids import derived_run_id

    a = derived_run_id(1_700_000_000.5, "tensorboard:events.out.tfevents.1.host")
    assert a == derived_run_id(1_700_000_000.5, "tensorboard:events.out.tfevents.1.host")
    assert a != derived_run_id(1_700_000_000.5, "tensorboard:events.out.tfevents.2.host")
    assert check_run_id(a) == a and len(a) == 26
    assert a < derived_run_id(1_700_000_001, "tensorboard:events.out.tfevents.1.host")
    assert is_valid_run_id(derived_run_id(-5.0, "x")) and is_valid_run_id(derived_run_id(1e20, "x"))
