"""Where a project's blobs go: `.gittrack/config.yaml`, overridden by `.git/gittrack/config.yaml`.

Both files have the same schema::

    storage:
      url: s3://bucket/prefix          # any fsspec URL, or a plain path (relative: to the repo)
      options: {endpoint_url: ...}     # fsspec storage options
    privacy: public                    # project file only; default: private iff keys exist
    save_code: true                    # runs save their uncommitted code (docs/code.md)

The project file is committed and reviewed like code; the local one (never pushed) lets one
user point at another store, e.g. a mirror, without touching the team's setting. Its
``storage`` section replaces the project's whole (options of one store make no sense for
another). ``privacy`` is honoured only in the project file: a local file must not be able to
turn encryption off for a team's shared store. ``save_code`` (default off) may be set in
either; the local file's wins, and ``init(save_code=...)``, ``Settings(save_code=...)`` and
``GITTRACK_SAVE_CODE`` win over both (``runs.code.wanted``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from gittrack.atomic import reason, write_atomic
from gittrack.errors import (
    FormatError,
    InvalidSettingError,
    RepositoryError,
    StorageError,
    UsageError,
)
from gittrack.formats import yamlio
from gittrack.git.repo import Repository, gittrack_dir, work_folder, work_tree
from gittrack.urls import has_credentials, is_secret_name, strip_credentials, strip_credentials_in

Privacy = Literal["private", "public"]
Source = Literal["local", "project", "default"]

CONFIG_NAME = "config.yaml"
_SECRET_WORDS = ("secret", "password", "passwd", "token", "credential", "account_key", "sas",
                 "connection_string", "private")
# Names that identify rather than authenticate: an access key *id* is shown like a user name
# (AWS prints it in its console); only the matching secret is masked.
_IDENTIFIERS = frozenset({"key", "access_key_id", "aws_access_key_id", "client_id",
                          "kms_key_id", "ssekmskeyid", "account_name", "key_id"})
# gcsfs' ``token`` may name a mode of authentication rather than hold one
_TOKEN_MODES = frozenset({"anon", "google_default", "cache", "cloud", "browser"})
MASK = "********"


@dataclasses.dataclass(frozen=True, slots=True)
class ProjectConfig:
    """The effective storage settings and where they came from."""

    url: str
    options: Mapping[str, Any]
    source: Source
    source_path: Path | None
    privacy: Privacy | None  # None: not set; private iff the project has keys
    save_code: bool | None = None  # None: not set (off)

    def to_dict(self, *, masked: bool = True) -> dict[str, Any]:
        return {
            "url": display_url(self.url) if masked else self.url,
            "options": mask_options(self.options) if masked else dict(self.options),
            "source": self.source,
            "source_path": None if self.source_path is None else str(self.source_path),
            "privacy": self.privacy,
            "save_code": self.save_code,
        }


def project_config_path(repo: Repository) -> Path | None:
    """``<work tree>/.gittrack/config.yaml``; ``None`` for a bare repository."""
    tree = work_tree(repo)
    return None if tree is None else tree / ".gittrack" / CONFIG_NAME


def local_config_path(repo: Repository) -> Path:
    return gittrack_dir(repo) / CONFIG_NAME


def default_store_url(repo: Repository) -> str:
    return str(gittrack_dir(repo) / "blobs")


def base_dir(repo: Repository) -> Path:
    """What relative store paths are relative to: the work tree (the git dir when bare)."""
    return Path(work_folder(repo))


def load_config(repo: Repository) -> ProjectConfig:
    """The effective configuration: local storage, else project storage, else the default."""
    project_path = project_config_path(repo)
    project = _read(project_path) if project_path is not None else {}
    local_path = local_config_path(repo)
    local = _read(local_path)
    if "privacy" in local:
        raise InvalidSettingError(
            f"{local_path}: privacy can only be set in .gittrack/config.yaml (committed and "
            "reviewed like code), not per user; remove it from the local file"
        )
    privacy = _privacy(project.get("privacy"), project_path)
    save_code = _save_code(project, project_path, local, local_path)
    for source, path, data in (("local", local_path, local), ("project", project_path, project)):
        storage = _storage(data.get("storage"), path)
        if storage is not None:
            url = resolve_url(repo, storage[0])
            return ProjectConfig(url, storage[1], source, path,  # type: ignore[arg-type]
                                 privacy, save_code)
    return ProjectConfig(default_store_url(repo), {}, "default", None, privacy, save_code)


def save_code_setting(repo: Repository) -> bool | None:
    """``save_code:`` of the local file, else of the project file (``None``: neither says),
    the rest of both files not checked: every ``init()`` asks, and a run that logs only
    scalars never needed valid storage settings."""
    project_path = project_config_path(repo)
    project = _read(project_path) if project_path is not None else {}
    local_path = local_config_path(repo)
    return _save_code(project, project_path, _read(local_path), local_path)


def _save_code(project: Mapping[str, Any], project_path: Path | None,
               local: Mapping[str, Any], local_path: Path) -> bool | None:
    shared = _flag(project.get("save_code"), project_path, "save_code")
    mine = _flag(local.get("save_code"), local_path, "save_code")
    return shared if mine is None else mine


def resolve_url(repo: Repository, url: str) -> str:
    """A plain relative path is relative to the repository, not to the current folder."""
    if "://" in url or url.startswith("file:"):
        return url
    path = Path(url).expanduser()
    return str(path if path.is_absolute() else base_dir(repo) / path)


def save_storage(
    repo: Repository, url: str, options: Mapping[str, Any], local: bool
) -> Path:
    """Set the storage section of the project (or local) file, keeping its other keys."""
    path = local_config_path(repo) if local else project_config_path(repo)
    if path is None:
        raise RepositoryError(
            "a bare repository has no .gittrack/config.yaml; use --local to configure storage"
        )
    data = _read(path)
    data["storage"] = {"url": url, "options": dict(options)} if options else {"url": url}
    try:  # never write what every later read would refuse
        _storage(data["storage"], path)
    except FormatError as exc:
        raise UsageError(f"not written: {exc}") from None
    _write(path, data, _mode(local))
    return path


def remove_storage(repo: Repository, local: bool) -> Path | None:
    """Drop the storage section of one file; the path changed, or ``None`` if it had none."""
    path = local_config_path(repo) if local else project_config_path(repo)
    if path is None:
        return None
    data = _read(path)
    if "storage" not in data:
        return None
    del data["storage"]
    _write(path, data, _mode(local))
    return path


def _mode(local: bool) -> int:
    # The local file may hold credentials; the project file is committed (git keeps 0644).
    return 0o600 if local else 0o644


def is_secret(key: str) -> bool:
    """Whether an option named ``key`` looks like it holds a credential: the names of
    ``gittrack.urls.is_secret_name`` (token, secret, password, session, auth, apikey, ...)
    and storage ones (account_key, sas, connection_string), but not an identifier (``key``,
    s3fs' access key id)."""
    lowered = key.strip().lower()
    if lowered in _IDENTIFIERS:
        return False
    return is_secret_name(lowered) or any(word in lowered for word in _SECRET_WORDS)


def _holds_secret(key: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str) and value.strip().lower() in _TOKEN_MODES:
        return False
    return is_secret(key)


def _url_with_credentials(value: Any) -> bool:
    return isinstance(value, str) and ("://" in value or "@" in value) \
        and has_credentials(value)


def mask_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options fit to print: secret-looking values replaced by ``********`` and URLs shown
    without their credentials, recursively."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, Mapping):
            out[key] = mask_options(value)
        elif _holds_secret(str(key), value):
            out[key] = MASK
        elif _url_with_credentials(value):
            out[key] = strip_credentials(value)
        else:
            out[key] = value
    return out


def display_url(url: str) -> str:
    """A URL without the credentials some people put in it (``https://user:pw@host``)."""
    return strip_credentials(url)


def secret_keys(options: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted names of options that hold a secret: a secret-looking name, or a URL with
    credentials (``endpoint_url=https://user:pw@host``, a proxy's), at any depth."""
    found = []
    for key, value in options.items():
        if isinstance(value, Mapping):
            found += secret_keys(value, f"{prefix}{key}.")
        elif _holds_secret(str(key), value) or _url_with_credentials(value):
            found.append(prefix + str(key))
    return found


def check_protocol(url: str) -> str | None:
    """Refuse an unknown protocol; a known one whose package is missing gives a warning text.

    ``storage set`` accepts the latter: a team may configure ``gs://`` on a machine that
    never reads the blobs itself.
    """
    import fsspec
    from fsspec.registry import known_implementations

    for part in url.split("::"):  # fsspec chains: simplecache::s3://...
        protocol = part.split("://", 1)[0] if "://" in part else "file"
        if protocol in fsspec.registry:
            continue
        known = known_implementations.get(protocol)
        if known is None:
            raise StorageError(
                f"unknown storage protocol {protocol!r} in {display_url(url)!r}: use a local "
                "path or an fsspec URL such as s3://, gs://, az://, file:// "
                "(see docs/storage.md)"
            )
        try:
            fsspec.get_filesystem_class(protocol)
        except (ImportError, ValueError):
            return f"the {protocol}:// backend is not installed here: {known.get('err', '')}"
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise RepositoryError(f"cannot read {path}: {exc.strerror or exc}") from None
    data = yamlio.load(raw, what=str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FormatError(f"{path} must hold a mapping (storage:, privacy:), not {_shown(data)}")
    return data


def _storage(value: Any, path: Path | None) -> tuple[str, dict[str, Any]] | None:
    if value is None:
        return None
    url = value.get("url") if isinstance(value, dict) else None
    options = value.get("options") or {} if isinstance(value, dict) else None
    if not isinstance(url, str) or not url.strip() or not isinstance(options, dict):
        raise FormatError(
            f"{path}: storage must be {{url: <fsspec URL or path>, options: {{...}}}}, "
            f"got {_shown(value)}"
        )
    if "\0" in url:
        raise FormatError(f"{path}: storage.url holds a NUL character")
    _check_options(options, path, "storage.options")
    return url, options


# Options whose type fsspec backends (s3fs, gcsfs, adlfs, sshfs...) need, wherever they nest
# (``client_kwargs.endpoint_url``): a wrong one fails only on the first request, deep inside
# botocore (``endpoint_url: {a: 1}`` gave "TypeError: unhashable type: 'dict'", exit 70).
_TEXT = frozenset({"endpoint_url", "region_name", "profile", "profile_name", "key", "secret",
                   "username", "password", "account_name", "account_key", "sas_token",
                   "connection_string", "tenant_id", "client_id", "client_secret", "host",
                   "project", "requester_pays_bucket", "cache_regions_url", "version_id"})
_FLAG = frozenset({"anon", "use_ssl", "requester_pays", "version_aware", "skip_instance_cache",
                   "use_listings_cache", "auto_mkdir", "cache_regions", "verify_ssl"})
_NUMBER = frozenset({"max_concurrency", "default_block_size", "max_attempts", "port",
                     "timeout", "connect_timeout", "read_timeout", "listings_expiry_time",
                     "block_size", "max_pool_connections"})
_MAPPING = frozenset({"client_kwargs", "config_kwargs", "s3_additional_kwargs", "proxies",
                      "retries", "storage_options", "headers"})
_SCALARS = (str, int, float, bool, type(None))
_MAX_DEPTH = 8


def _check_options(options: Mapping[Any, Any], path: Path | None, where: str,
                   depth: int = 0) -> None:
    """``options`` must be what fsspec takes: text keys; scalars, lists of scalars or nested
    mappings as values; known keys of their type. The file comes in a teammate's commit."""
    if depth > _MAX_DEPTH:
        raise FormatError(f"{path}: {where} nests deeper than {_MAX_DEPTH} levels")
    for key, value in options.items():
        if not isinstance(key, str) or not key or "\0" in key:
            raise FormatError(f"{path}: {where} has a key that is not a name: {_shown(key)}")
        name = f"{where}.{key}"
        expected = _expected_type(key, value)
        if expected is not None:
            raise FormatError(f"{path}: {name} must be {expected}, got {_kind(value)}")
        if isinstance(value, dict):
            _check_options(value, path, name, depth + 1)
        elif isinstance(value, list):
            if not all(isinstance(item, _SCALARS) for item in value):
                raise FormatError(f"{path}: {name} must be a list of plain values")
        elif not isinstance(value, _SCALARS):
            raise FormatError(f"{path}: {name} must be text, a number, true/false, a list or "
                              f"a mapping, got {_kind(value)}")
        elif isinstance(value, str) and "\0" in value:
            raise FormatError(f"{path}: {name} holds a NUL character")


def _expected_type(key: str, value: Any) -> str | None:
    """What ``key``'s value should be, if it is not; ``None`` when it fits."""
    if value is None:
        return None
    if key in _TEXT and not isinstance(value, str):
        return "text"
    if key in _FLAG and not isinstance(value, bool):
        return "true or false"
    if key in _NUMBER and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "a number"
    if key in _MAPPING and not isinstance(value, dict):
        return "a mapping"
    return None


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}
    return names.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    """A value fit for a one-line message: short, and without what looks like credentials."""
    text = repr(value)
    text = strip_credentials_in(text)
    return text if len(text) <= 80 else text[:77] + "..."


def _privacy(value: Any, path: Path | None) -> Privacy | None:
    if value is None or value in ("private", "public"):
        return value  # type: ignore[no-any-return]
    raise FormatError(f"{path}: privacy must be 'private' or 'public', got {_shown(value)}")


def _flag(value: Any, path: Path | None, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise FormatError(f"{path}: {name} must be true or false, got {_shown(value)}")


def _write(path: Path, data: dict[str, Any], mode: int) -> None:
    try:  # before any file exists: a value that cannot be written leaves none behind
        text = yamlio.dump(data)
    except UnicodeEncodeError as exc:  # lone surrogates: bytes that were not UTF-8
        raise InvalidSettingError(f"cannot write {path}: {exc.object[exc.start:exc.end]!r} "
                                  "is not UTF-8 text") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RepositoryError(f"cannot create {path.parent}: {reason(exc)}") from None
    # the umask applies to ``mode``: a local file with credentials (0o600) stays private
    write_atomic(path, text, mode, error=RepositoryError)
