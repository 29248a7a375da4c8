"""`gittrack ui`: serve the local web UI (``gittrack.ui``) of a repository's runs, read-only.

Loopback by default. Another ``--host`` makes the runs reachable from other machines: a token
is then required of every request, printed once in the URL (as Jupyter does), and the command
says so. The web framework is the ``ui`` extra, imported only here.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import webbrowser

import click

from gittrack.cli.context import CliContext
from gittrack.errors import UsageError

DEFAULT_PORT = 6070
PORT_TRIES = 20
"""Without ``--port``: the first free port from ``DEFAULT_PORT`` on (as Jupyter does)."""
INSTALL = "pip install 'gittrack[ui]'"


@click.command("ui")
@click.option("--repo", "repo_path", metavar="PATH", default=None,
              help="Serve the runs of the git repository at PATH (default: this one).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, metavar="N",
              help=f"Listen on port N (0: any free port; default: the first free from "
                   f"{DEFAULT_PORT}).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="Listen on HOST. Any address but loopback requires a token, printed once.")
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
@click.option("--export", "export_dir", metavar="DIR", default=None,
              help="Write the pages as a static site to DIR instead of serving (RUN...: only "
                   "those runs).")
@click.option("--public-only", is_flag=True,
              help="With --export: leave out what a private project keeps encrypted (media, "
                   "charts, tables, console output, saved code); by default the export holds "
                   "whatever your key opens, decrypted.")
@click.argument("runs", nargs=-1, metavar="[RUN]...")
@click.pass_obj
def command(obj: CliContext, repo_path: str | None, port: int | None, host: str,
            no_browser: bool, export_dir: str | None, public_only: bool,
            runs: tuple[str, ...]) -> None:
    """Open a local web page of the runs: table, charts, comparisons (read-only).

    With --export DIR, write the same pages with their data to DIR instead (RUN...: ids, id
    prefixes or names; default every run), to open from disk or publish as they are.
    """
    if export_dir is not None:
        _export(repo_path, obj, export_dir, runs, public_only)
        return
    if public_only:
        raise UsageError("--public-only chooses what an export holds: use it with --export DIR")
    if runs:
        raise UsageError("RUN... selects the runs of an export: use it with --export DIR")
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        raise UsageError(f"gittrack ui needs the web UI extra: {INSTALL}") from None
    from gittrack.git.repo import work_folder
    from gittrack.ui.app import LOOPBACK_HOSTS, create_app

    context = CliContext(repo=repo_path) if repo_path is not None else obj
    path = work_folder(context.reader())
    loopback = is_loopback(host)
    token = None if loopback else secrets.token_urlsafe(24)
    sock = listen(host, port)
    bound = int(sock.getsockname()[1])
    # on loopback, only requests naming this machine are answered (DNS rebinding)
    hosts = (*LOOPBACK_HOSTS, host.strip("[]").lower()) if loopback else None
    app = create_app(path, token=token, allowed_hosts=hosts)
    url = f"http://{shown_host(host)}:{bound}/" + (f"?token={token}" if token else "")
    click.echo(f"gittrack ui: serving the runs of {path} (read-only) at {url}")
    if token is not None:
        click.echo(f"gittrack ui: listening on {host}, reachable from other machines: every "
                   "request needs the token in the URL above, printed only this once; anyone "
                   "who has it can read every run.")
    click.echo("gittrack ui: press Ctrl-C to stop.")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           access_log=False))
    if not no_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    server.run(sockets=[sock])


def _export(repo_path: str | None, obj: CliContext, directory: str,
            runs: tuple[str, ...], public_only: bool) -> None:
    from gittrack.git.repo import work_folder
    from gittrack.ui.export import export

    context = CliContext(repo=repo_path) if repo_path is not None else obj
    exported = export(work_folder(context.reader()), directory, runs, public_only=public_only)
    click.echo(f"gittrack ui: exported {len(exported.runs)} run(s) to {directory} "
               f"(open {directory.rstrip('/')}/index.html)")
    for note in exported.notes():
        click.echo(f"gittrack ui: {note}", err=True)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def shown_host(host: str) -> str:
    """``host`` as it goes in a URL (this machine's name for a wildcard address)."""
    bare = host.strip("[]")
    if bare in ("0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{bare}]" if ":" in bare else host


def listen(host: str, port: int | None) -> socket.socket:
    """A socket listening on ``host:port``; without ``port``, the first free port from
    ``DEFAULT_PORT``. ``UsageError`` naming the address when it cannot be had."""
    ports = [port] if port is not None else list(range(DEFAULT_PORT, DEFAULT_PORT + PORT_TRIES))
    error: OSError | None = None
    for number in ports:
        try:
            family, kind, proto, _name, address = socket.getaddrinfo(
                host.strip("[]"), number, type=socket.SOCK_STREAM)[0]
        except socket.gaierror as exc:
            raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(128)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.set_inheritable(True)
        return sock
    tried = f"{host}:{ports[0]}" if len(ports) == 1 else f"{host}:{ports[0]}-{ports[-1]}"
    reason = error.strerror if error is not None and error.strerror else str(error)
    raise UsageError(f"cannot listen on {tried}: {reason} (choose another with --port N)")


def _open_when_started(server: object, url: str) -> None:
    started = threading.Event()
    while not started.wait(0.05):
        if getattr(server, "started", False):
            started.set()
        elif getattr(server, "should_exit", False):
            return
    webbrowser.open(url)
