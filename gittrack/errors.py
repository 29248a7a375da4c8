"""The one error hierarchy of gittrack.

Every error a user can meet is a ``GittrackError``; the command line turns each into a one-line
message and the class's ``exit_code`` in exactly one place (``gittrack.cli.main``)::

    GittrackError (exit 1)
    ├── UsageError (2)                    bad arguments to a command or function
    │   ├── InvalidKeyError (+ValueError)  a metric/config key that cannot be stored
    │   ├── InvalidValueError (+TypeError, ValueError) a value gittrack does not record
    │   ├── StepOrderError (+ValueError)   a step lower than the current one, when set to raise
    │   ├── InvalidSettingError (+ValueError)
    │   └── NoActiveRunError               gittrack.log() (and the like) before gittrack.init()
    ├── RepositoryError (3)               no git repository, unwritable .git, unborn state
    │   └── NotAGitRepositoryError
    ├── NotFoundError (4)                 no run (or artifact) matches a name, id or prefix
    │   ├── AmbiguousNameError            more than one matches
    │   └── VersionRemovedError           an artifact version removed with `artifact rm`
    ├── ConflictError (5)                 a ref moved under us, a run exists or is live elsewhere
    │   ├── RunExistsError
    │   ├── RunLockedError
    │   ├── DivergedError                 local and remote histories of a run/artifact differ
    │   └── DeletedOnRemoteError          a push would bring back refs the remote deleted
    ├── FormatError (6)                   stored data that this version cannot read
    ├── RunFinishedError (7)              logging to a run that has finished
    ├── StorageError (8)                  the blob store refused or failed (URL and reason named)
    │   └── BlobNotFoundError             a blob the manifest names is not in the store
    ├── CryptoError (9)                   keys and encryption
    │   ├── KeyMissingError               no identity of yours can open the project key
    │   └── DecryptionError               wrong key, or a truncated or tampered blob
    ├── TransportError (10)               `git push`/`git fetch` failed (git's own message)
    │   └── PushRejectedError             the remote refused some refs (hook, non-fast-forward)
    └── OutputError (74)                  a file you asked for (an export) cannot be written

What is not a ``GittrackError`` gets its code in ``gittrack.cli.main`` too, stable as well::

    OSError                      74  (EX_IOERR) one line naming the file and the reason:
                                     "cannot write FILE: No space left on device"
    RecursionError, MemoryError   6  data nested too deeply or too large to process
    anything else                70  (EX_SOFTWARE) a bug: the message asks for a report

Value errors also derive from the matching built-in (``ValueError``/``TypeError``) so code
written for other trackers that catches those keeps working.
"""

from __future__ import annotations


class GittrackError(Exception):
    """Root of every error gittrack raises on purpose."""

    exit_code = 1


class UsageError(GittrackError):
    exit_code = 2


class InvalidKeyError(UsageError, ValueError):
    """A key that cannot name a metric or config entry."""


class InvalidValueError(UsageError, TypeError, ValueError):
    """A value gittrack does not record (the message names the key, the type or the range)."""


class StepOrderError(UsageError, ValueError):
    """A step lower than the run's current step, with ``out_of_order="raise"``."""


class InvalidSettingError(UsageError, ValueError):
    """An unknown setting, or a setting with a value out of range."""


class NoActiveRunError(UsageError):
    """A module-level call (``gittrack.log()``, ``gittrack.config``, ...) with no active run:
    ``gittrack.init()`` was not called, or its run has finished."""


class RepositoryError(GittrackError):
    exit_code = 3


class NotAGitRepositoryError(RepositoryError):
    """No git repository where one was needed; the message says how to make one."""


class NotFoundError(GittrackError, LookupError):
    exit_code = 4


class AmbiguousNameError(NotFoundError):
    """A name or id prefix that matches more than one run."""


class VersionRemovedError(NotFoundError):
    """``name:vN`` names a version that was removed (``gittrack artifact rm name:vN``): its
    number stays used, so runs that recorded it keep a record that no other version takes."""


class ConflictError(GittrackError):
    exit_code = 5


class RunExistsError(ConflictError):
    """``init(id=...)`` for a run that exists, without ``resume``."""


class RunLockedError(ConflictError):
    """The run is being written by another live process."""


class DivergedError(ConflictError):
    """A run or artifact whose local and remote histories diverged; the message says how to
    resolve it (``gittrack pull --force`` takes the remote's, ``push --force`` the local)."""


class DeletedOnRemoteError(ConflictError):
    """A plain ``git push`` (refspecs of ``remote setup --push``) would create again on the
    remote refs a teammate deleted there; the pre-push hook refuses it, strict or not."""


class FormatError(GittrackError):
    exit_code = 6


class RunFinishedError(GittrackError):
    exit_code = 7


class StorageError(GittrackError):
    exit_code = 8


class BlobNotFoundError(StorageError, LookupError):
    """A blob named by a manifest is missing from the store (and from the local cache)."""


class CryptoError(GittrackError):
    exit_code = 9


class KeyMissingError(CryptoError):
    """None of the user's identities can open the project key; the message says what to do."""


class DecryptionError(CryptoError):
    """A blob that does not decrypt or does not match its digest: nothing is written."""


class TransportError(GittrackError):
    """A git transport command failed; the message carries git's stderr (credentials
    stripped from URLs)."""

    exit_code = 10


class PushRejectedError(TransportError):
    """The remote refused refs (a server hook, a non-fast-forward); ``refs`` names them."""

    def __init__(self, message: str, refs: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.refs = refs


class OutputError(GittrackError):
    """The system refused to write a file the user asked for, outside ``.git`` (``gittrack
    export``): the message names the file and the reason. Exit 74, as for any file the
    system refuses (EX_IOERR)."""

    exit_code = 74


class GittrackWarning(UserWarning):
    """Warnings gittrack emits (out-of-order steps, logging from a forked child, ...)."""
