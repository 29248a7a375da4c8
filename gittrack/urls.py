"""URLs without the secrets people put in them: the one place that strips credentials.

Used wherever a URL is written down or shown: a run's code remote (``run.yaml``), git's
error messages, storage URLs, artifact references. Removed:

- the user-info part of ``scheme://user:password@host/...`` (a user name too: tokens are
  often given as one, ``https://TOKEN@github.com``), and the password of an scp-like
  ``user:password@host:path`` (a bare ``git@host:path`` user is kept);
- query parameters that carry a secret: signatures and credentials of presigned S3, GCS and
  Azure SAS URLs (``X-Amz-Signature``, ``X-Amz-Credential``, ``X-Goog-Signature``, ``sig``),
  tokens, passwords, sessions and API keys (``token``, ``access_token``, ``sessionid``,
  ``auth``, ``key``, ``apikey``, ``pwd``, ``jwt``, ``cookie``, ...): a name that contains one
  of ``_SECRET_WORDS``, or whose ``-_.``-separated parts include one of ``_SECRET_PARTS``
  (``x-auth-user`` is secret, ``author`` is not);
- the whole fragment (``#...``) of a ``scheme://`` URL: it is never sent to a server, means
  nothing to git or fsspec, and is where tokens ride (OAuth's implicit grant puts
  ``#access_token=...`` there; share links put a bare key). Nothing can tell an opaque
  fragment from a secret, so none is kept.

Callers choose what to do with what would be stripped: a reference URL, which is committed
as given, is refused (``Artifact.add_reference``); a code remote, a storage URL or a git error
message is recorded or shown stripped.

Parsed by hand rather than with ``urllib.parse``, which loses IPv6 brackets through
``hostname`` and raises on a bad port or an unclosed ``[``: a stripper must never raise.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_SECRET_WORDS = ("signature", "credential", "token", "secret", "passw", "passphrase", "apikey",
                 "api_key", "api-key", "accesskey", "access_key", "privatekey", "private_key",
                 "session", "sessid", "authoriz", "oauth", "jwt", "cookie", "bearer")
_SECRET_NAMES = frozenset({"code", "client_secret"})
# parts of a name split at - _ . (whole parts only: ``author`` and ``keyword`` are harmless)
_SECRET_PARTS = frozenset({"sig", "key", "auth", "pwd", "pass", "sas", "sid", "otp"})
_PARTS = re.compile(r"[-_.\s]+")
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
    """``/path?query#fragment`` without the secret parameters of its query, nor its fragment."""
    rest = rest.partition("#")[0]
    start = rest.find("?")
    if start == -1:
        return rest
    params = rest[start + 1:].split("&")
    kept = [p for p in params if not is_secret_name(p.partition("=")[0])]
    if len(kept) == len(params):
        return rest
    query = "?" + "&".join(kept) if kept else ""
    return rest[:start] + query


def is_secret_name(name: str) -> bool:
    """Whether a query parameter or an option named ``name`` looks like it holds a secret."""
    lowered = unquote(name).strip().lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS) \
        or any(part in _SECRET_PARTS for part in _PARTS.split(lowered))


def _first_of(text: str, chars: str) -> int:
    """The index of the first of ``chars`` in ``text``, or its length."""
    found = [i for i in (text.find(c) for c in chars) if i != -1]
    return min(found) if found else len(text)


# -- commit links -----------------------------------------------------------------------------

_FORGES = {"github.com": "{base}/commit/{sha}", "gitlab.com": "{base}/-/commit/{sha}",
           "bitbucket.org": "{base}/commits/{sha}", "codeberg.org": "{base}/commit/{sha}"}
_REMOTE = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d+)?/"
    r"|(?:[^@/]+@)?(?P<scp_host>[^/:]+):)(?P<path>[^?#]+?)(?:\.git)?/?$")


def commit_url(remote: str | None, sha: str | None) -> str | None:
    """A web link to commit ``sha`` when ``remote`` (any git URL form) is on a known forge
    (GitHub, GitLab, Bitbucket, Codeberg), else ``None``.

    >>> commit_url("git@github.com:acme/model.git", "abc123")
    'https://github.com/acme/model/commit/abc123'
    """
    if not remote or not sha:
        return None
    match = _REMOTE.match(remote.strip())
    if match is None:
        return None
    host = (match["host"] or match["scp_host"]).lower()
    template = _FORGES.get(host.removeprefix("www."))
    path = match["path"].strip("/")
    if template is None or path.count("/") < 1:
        return None
    return template.format(base=f"https://{host.removeprefix('www.')}/{path}", sha=sha)
