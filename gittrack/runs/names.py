"""Human-friendly default run names, like ``brisk-river-7k``: metadata only, never an id."""

from __future__ import annotations

import secrets

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "cosmic", "crisp", "dapper", "eager", "fancy",
    "gentle", "golden", "hardy", "jolly", "keen", "lively", "lucid", "mellow", "misty", "noble",
    "polar", "proud", "quiet", "rapid", "royal", "rustic", "silent", "sleek", "smooth", "solar",
    "stellar", "sunny", "swift", "tidy", "vivid", "warm", "wild", "wise", "young", "zesty",
)
_NOUNS = (
    "aurora", "bay", "breeze", "brook", "canyon", "cedar", "cloud", "comet", "dawn", "delta",
    "dune", "field", "fjord", "forest", "frost", "galaxy", "glade", "harbor", "lake", "leaf",
    "meadow", "moon", "nebula", "ocean", "peak", "pine", "planet", "pond", "rain", "river",
    "sea", "shadow", "sky", "snow", "star", "stone", "sun", "thunder", "valley", "wave",
)


def random_name(run_id: str) -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{run_id[-4:]}"
