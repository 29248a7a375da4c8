"""URLs without the secrets people put in them: the one place that strips credentials.

Used wherever a URL is written down or shown: a run's code remote (``run.yaml``), git's
error messages, storage URLs, artifact references. Removed:

- the user-info part of ``scheme://user:password@host/...`` (a user name too: tokens are
  often given as one, ``https://TOKEN@github.com``), and the password of an scp-like
  ``user:password@host:path`` (a bare ``git@host:path`` user is kept);
- query parameters that carry a secret: signatures and credentials of presigned S3, GCS and
  Azure SAS URLs (``X-Amz-Signature``, ``X-Amz-Credential``, ``X-Goog-Signature``, ``sig``),
  tokens, passwords and API keys (``token``, ``access_token``, ``key``, ``api_key``, ...).

Parsed by hand rather than with ``urllib.parse``, which loses IPv6 brackets through
``hostname`` and raises on a bad port or an unclosed ``[``: a stripper must never raise.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_SECRET_WORDS = ("signature", "credential", "token", "secret", "passw", "apikey", "api_key",
                 "api-key", "accesskey", "access_key", "privatekey", "private_key")
_SECRET_NAMES = frozenset({"sig", "key", "auth", "authorization", "pwd", "pass", "code",
                           "client_secret", "sas"})
_WORD = re.compile(r"\S+")


def strip_credentials(url: str) -> str:
    """``url`` without user info and secret query parameters; anything else as written.

    >>> strip_credentials("https://alice:TOKEN@[::1]:8080/f?X-Amz-Signature=ab&v=2")
    'https://[::1]:8080/f?v=2'
    """
    head, sep, tail = url.partition("://")
    if not sep:
        return _strip_scp(url)
    end = _first_of(tail, "/?#")
    authority, rest = tail[:end], tail[end:]
    return head + sep + authority.rpartition("@")[2] + _strip_query(rest)


def has_credentials(url: str) -> bool:
    """Whether ``strip_credentials`` would remove anything from ``url``."""
    return strip_credentials(url) != url


def strip_credentials_in(text: str) -> str:
    """Every URL-like word of ``text`` (a git error message) stripped; spacing kept."""
    return _WORD.sub(lambda m: _strip_word(m.group(0)), text)


def _strip_word(word: str) -> str:
    return strip_credentials(word) if "://" in word or "@" in word else word


def _strip_scp(text: str) -> str:
    """``user:password@host:path`` → ``host:path``; ``git@host:path`` and paths unchanged."""
    end = _first_of(text, "/")
    userinfo, at, rest = text[:end].rpartition("@")
    if not at or ":" not in userinfo:
        return text
    return rest + text[end:]


def _strip_query(rest: str) -> str:
    """``/path?query#fragment`` without the secret parameters of its query."""
    start = rest.find("?")
    if start == -1:
        return rest
    hash_at = rest.find("#", start)
    end = len(rest) if hash_at == -1 else hash_at
    params = rest[start + 1:end].split("&")
    kept = [p for p in params if not _is_secret_param(p)]
    if len(kept) == len(params):
        return rest
    query = "?" + "&".join(kept) if kept else ""
    return rest[:start] + query + rest[end:]


def _is_secret_param(param: str) -> bool:
    name = unquote(param.partition("=")[0]).strip().lower()
    return name in _SECRET_NAMES or any(word in name for word in _SECRET_WORDS) \
        or name.endswith(("_key", "-key", ".key"))


def _first_of(text: str, chars: str) -> int:
    """The index of the first of ``chars`` in ``text``, or its length."""
    found = [i for i in (text.find(c) for c in chars) if i != -1]
    return min(found) if found else len(text)
