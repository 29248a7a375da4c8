"""`gittrack storage set|unset|show`: where this project's artifact bytes are stored."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from gittrack.cli.console import make_console, print_block
from gittrack.cli.context import CliContext
from gittrack.cli.render import dumps
from gittrack.errors import FormatError, GittrackError, UsageError
from gittrack.formats import yamlio
from gittrack.git.repo import Repository
from gittrack.storage import config
from gittrack.storage.project import is_private
from gittrack.urls import has_credentials


@click.group("storage")
def command() -> None:
    """Configure the blob store of artifacts (any fsspec URL or a local folder)."""


@command.command("set")
@click.argument("url")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="An fsspec storage option (endpoint_url=..., profile=...); VALUE is read as "
                   "YAML (true, 3, text); a dotted KEY nests (client_kwargs.region_name=...). "
                   "Repeatable.")
@click.option("--local", is_flag=True,
              help="Only for this clone (.git/gittrack/config.yaml, never pushed), instead "
                   "of the project file .gittrack/config.yaml that you commit.")
@click.pass_obj
def set_(obj: CliContext, url: str, options: tuple[str, ...], local: bool) -> None:
    """Store artifacts at URL (s3://bucket/prefix, gs://..., az://..., or a folder)."""
    repo = obj.git()
    parsed = parse_options(options)
    url = _stored_url(repo, url, local)
    warning = config.check_protocol(url)
    console = make_console(stderr=True)
    if warning:
        console.print(f"gittrack: warning: {warning}")
    secrets = config.secret_keys(parsed)
    if has_credentials(url):
        secrets.insert(0, "the URL's credentials")
    if secrets and not local:
        # the project file is committed and pushed: once there, a secret stays in history
        raise UsageError(
            f"{', '.join(secrets)} would be committed with .gittrack/config.yaml: keep "
            "credentials in this clone's file with --local (.git/gittrack/config.yaml, never "
            "pushed, like DVC's config.local), a profile or environment variables; nothing "
            "written")
    path = config.save_storage(repo, url, parsed, local)
    where = "this clone" if local else "the project (commit it)"
    click.echo(f"storage for {where}: {config.display_url(url)} ({_relative(repo, path)})")


@command.command("unset")
@click.option("--local", is_flag=True, help="Remove this clone's override instead.")
@click.pass_obj
def unset(obj: CliContext, local: bool) -> None:
    """Forget the configured storage (the project's, or this clone's with --local)."""
    repo = obj.git()
    path = config.remove_storage(repo, local)
    if path is None:
        click.echo("nothing to remove")
    else:
        click.echo(f"removed the storage setting from {_relative(repo, path)}")
    _show(repo, as_json=False)


@command.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.pass_obj
def show(obj: CliContext, as_json: bool) -> None:
    """Show the effective storage URL, where it was set, and the privacy of the project.

    Secret-looking options (secret, password, token, ...) are masked, and URLs are shown
    without their credentials.
    """
    _show(obj.reader(), as_json=as_json)


def _show(repo: Repository, *, as_json: bool) -> None:
    effective = config.load_config(repo)
    doc = effective.to_dict(masked=True)
    doc["source_path"] = _relative(repo, effective.source_path) if effective.source_path \
        else None
    doc["encrypted"] = _encrypted(repo, effective)
    if as_json:
        click.echo(dumps(doc))
        return
    origin = {"local": "this clone's override", "project": "the project file",
              "default": "default: a folder inside .git"}[effective.source]
    lines = [("url", doc["url"]),
             ("from", f"{origin}" + (f" ({doc['source_path']})" if doc["source_path"] else ""))]
    lines += [(f"option {k}", _scalar(v)) for k, v in _flat(doc["options"]).items()]
    lines.append(("privacy", _privacy_text(effective.privacy, doc["encrypted"])))
    width = max(len(label) for label, _ in lines)
    text = Text("\n".join(f"{label:<{width}}  {value}" for label, value in lines))
    print_block(make_console(), text)


def _encrypted(repo: Repository, effective: config.ProjectConfig) -> bool | None:
    try:
        return is_private(repo, effective)
    except GittrackError:
        return None  # a bare repository: no keyring to look at


def _privacy_text(privacy: str | None, encrypted: bool | None) -> str:
    if encrypted is None:
        return "unknown (no work tree)"
    if encrypted:
        return "private: blobs are age-encrypted (keys in .gittrack/keys)"
    if privacy == "public":
        return "public: blobs are stored as plaintext (privacy: public)"
    return "public: no project keys yet (`gittrack keys init` makes the project private)"


def parse_options(items: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are YAML scalars, dotted keys nest."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option takes KEY=VALUE, got {item!r}")
        value = _yaml_scalar(raw)
        parts = key.strip().split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise UsageError(f"--option {key}: {part} is set to a value already")
            node = child
        node[parts[-1]] = value
    return out


def _yaml_scalar(raw: str) -> Any:
    """``true`` → True, ``3`` → 3, ``null`` → None, ``{a: 1}`` or ``{"a": 1}`` → a mapping
    (as ``-o a.b=1`` makes), ``[1, 2]`` → a list; a comment or bad YAML stays the text as
    given. A mapping kept as text would hide the keys in it (``{"password": ...}``) from the
    check that keeps credentials out of the committed file."""
    if not raw.strip():
        return ""
    try:
        value = yamlio.load(raw)
    except FormatError:
        return raw
    if value is None and raw.strip() not in ("null", "~"):
        return raw
    return value


def _stored_url(repo: Repository, url: str, local: bool) -> str:
    """A folder given relative to here is stored relative to the repository (the project
    file is shared: an absolute path of this machine would mean nothing elsewhere)."""
    if "://" in url or url.startswith("file:"):
        return url
    path = Path(url).expanduser()
    absolute = path if path.is_absolute() else Path.cwd() / path
    if local or path.is_absolute():
        return os.path.normpath(absolute)
    return os.path.relpath(absolute, config.base_dir(repo))


def _relative(repo: Repository, path: Path) -> str:
    try:
        return str(path.relative_to(config.base_dir(repo)))
    except ValueError:
        return str(path)


def _flat(options: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return yamlio.dump(value).decode().strip().removesuffix("...").strip()
