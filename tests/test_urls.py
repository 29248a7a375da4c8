from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gittrack.urls import commit_url, has_credentials, strip_credentials, strip_credentials_in


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://u:p@host:8443/r.git?x=1", "https://host:8443/r.git?x=1"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("ssh://git@host/r.git", "ssh://host/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        # IPv6 literals keep their brackets, with or without a port
        ("https://user:pw@[::1]:8080/x", "https://[::1]:8080/x"),
        ("https://user:pw@[fe80::1%25eth0]/x", "https://[fe80::1%25eth0]/x"),
        # a bad port is kept as written, never raised about
        ("https://u:p@h:99999/x", "https://h:99999/x"),
        ("https://h:abc/x", "https://h:abc/x"),
        ("https://u:p@[::1/x", "https://[::1/x"),
        # query-string secrets are dropped; harmless parameters stay, in order
        ("https://h/f?X-Amz-Algorithm=A&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&v=2",
         "https://h/f?X-Amz-Algorithm=A&v=2"),
        ("https://acct.blob.core.windows.net/c/f?sv=2022&sp=r&sig=SECRET",
         "https://acct.blob.core.windows.net/c/f?sv=2022&sp=r"),
        ("https://h/f?token=T", "https://h/f"),
        ("https://h/f?access_token=T#frag", "https://h/f"),
        # a fragment is never sent to a server, and is where tokens ride (OAuth implicit
        # grant, share links): dropped whole
        ("http://127.0.0.1:18765/f#access_token=SECRET", "http://127.0.0.1:18765/f"),
        ("https://host/r#SECRETX", "https://host/r"),
        ("https://host/r?v=1#x", "https://host/r?v=1"),
        # secret-looking parameter names beyond tokens and signatures
        ("https://h/f?sessionid=S&v=1", "https://h/f?v=1"),
        ("https://h/f?session=S", "https://h/f"),
        ("https://h/f?PHPSESSID=S", "https://h/f"),
        ("https://h/f?auth=S", "https://h/f"),
        ("https://h/f?x-auth-token=S", "https://h/f"),
        ("https://h/f?apikey=S", "https://h/f"),
        ("https://h/f?pwd=S", "https://h/f"),
        ("https://h/f?passphrase=S", "https://h/f"),
        ("https://h/f?jwt=S", "https://h/f"),
        ("https://h/f?cookie=S", "https://h/f"),
        ("https://h/f?bearer=S", "https://h/f"),
        ("https://h/f?author=me&page=2", "https://h/f?author=me&page=2"),
        ("https://storage.googleapis.com/b/o?X-Goog-Signature=S&x=1",
         "https://storage.googleapis.com/b/o?x=1"),
        ("https://h/f?key=AIzaSECRET", "https://h/f"),
        # scp-like: a user name is kept, a password never
        ("alice:secret@host:repo.git", "host:repo.git"),
        ("file:///srv/r.git", "file:///srv/r.git"),
        ("file://u:p@host/srv/r.git", "file://host/srv/r.git"),
        ("", ""),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected
    assert has_credentials(url) == (url != expected)


def test_strip_credentials_in_text() -> None:
    text = "fatal: unable to access 'https://a:SECRET@h/r.git/': 403\n"
    assert "SECRET" not in strip_credentials_in(text)
    assert "fatal: unable to access" in strip_credentials_in(text)


# upper case: no other part of the URL (lower case) can contain it by chance
_SECRET = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8,
                  max_size=20).map(lambda s: "Z" + s)
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:", max_size=12)
_HOST = st.one_of(st.sampled_from(["host", "[::1]", "[fe80::1]", "10.0.0.1", "[::1", "h:"]),
                  _WORD)
_PORT = st.one_of(st.just(""), st.integers(-5, 10**6).map(lambda p: f":{p}"),
                  _WORD.map(lambda w: f":{w}"))


@given(scheme=st.sampled_from(["https", "http", "ssh", "s3", "file", "git+ssh", ""]),
       user=_WORD, secret=_SECRET, host=_HOST, port=_PORT, path=_WORD,
       param=st.sampled_from(["token", "X-Amz-Signature", "sig", "access_token", "password",
                              "X-Amz-Security-Token", "X-Goog-Credential", "api_key",
                              "sessionid", "session", "auth", "apikey", "pwd", "secret",
                              "signature", "id_token", "refresh_token", "credential", "key"]),
       where=st.sampled_from(["password", "query", "fragment", "scp"]),
       junk=st.text(max_size=10))
def test_stripped_url_never_holds_the_secret(scheme: str, user: str, secret: str, host: str,
                                             port: str, path: str, param: str, where: str,
                                             junk: str) -> None:
    assume(secret not in junk)
    if where == "password":
        url = f"{scheme}://{user}:{secret}@{host}{port}/{path}{junk}"
    elif where == "query":
        url = f"{scheme}://{host}{port}/{path}?a=1&{param}={secret}&b=2"
    elif where == "fragment":
        url = f"{scheme}://{host}{port}/{path}#{param}={secret}"
    else:
        url = f"{user}:{secret}@{host}:{path}"
    stripped = strip_credentials(url)
    assert secret not in stripped
    assert has_credentials(url)
    assert secret not in strip_credentials_in(f"error at {url} here")


@given(st.text())
def test_strip_credentials_never_raises(text: str) -> None:
    stripped = strip_credentials(text)
    assert strip_credentials(stripped) == stripped  # idempotent
    strip_credentials_in(text)
    has_credentials(text)


@pytest.mark.parametrize(("remote", "url"), [
    ("git@github.com:acme/model.git", "https://github.com/acme/model/commit/abc"),
    ("https://TOKEN@github.com/acme/model", "https://github.com/acme/model/commit/abc"),
    ("ssh://git@gitlab.com/g/sub/p.git", "https://gitlab.com/g/sub/p/-/commit/abc"),
    ("https://bitbucket.org/a/b.git", "https://bitbucket.org/a/b/commits/abc"),
    ("/srv/origin.git", None), ("https://example.com/a/b", None), ("github.com:a", None),
])
def test_commit_url_on_known_forges(remote: str, url: str | None) -> None:
    assert commit_url(remote, "abc") == url
