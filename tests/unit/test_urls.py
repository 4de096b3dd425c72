"""Store URL parsing, validation and redaction (no network, no boto3, no paramiko)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from git_lazydata.errors import ConfigError
from git_lazydata.stores.urls import (
    StoreURL,
    parse_store_url,
    redact,
    register_secret,
)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("/srv/lake", "/srv/lake"),
        ("/srv/lake/../other/", "/srv/other"),
        ("./lake", "/base/dir/lake"),
        ("../lake", "/base/lake"),
        ("lake/data", "/base/dir/lake/data"),
        (".", "/base/dir"),
        ("file:///srv/my%20lake", "/srv/my lake"),
        ("file://localhost/srv/lake", "/srv/lake"),
        ("FILE:///srv/lake", "/srv/lake"),
    ],
)
def test_folder_forms(text: str, path: str) -> None:
    url = parse_store_url(text, base=Path("/base/dir"))
    assert url == StoreURL("file", path=path)
    assert str(url) == path


def test_folder_relative_defaults_to_cwd_and_tilde_to_home() -> None:
    assert parse_store_url("./x").path == os.path.join(os.getcwd(), "x")
    assert parse_store_url("~/lake").path == os.path.join(os.environ["HOME"], "lake")


@pytest.mark.parametrize(
    ("text", "fields", "endpoint"),
    [
        ("s3://bucket", {"bucket": "bucket"}, None),
        ("s3://bucket/team/data", {"bucket": "bucket", "prefix": "team/data"}, None),
        ("s3://my.bucket//team//data/", {"bucket": "my.bucket", "prefix": "team/data"}, None),
        ("s3://minio.local:9000/b/p",
         {"bucket": "b", "prefix": "p", "host": "minio.local", "port": 9000, "secure": False},
         "http://minio.local:9000"),
        ("s3://key:secret@127.0.0.1:9000/b/p",
         {"bucket": "b", "prefix": "p", "host": "127.0.0.1", "port": 9000, "user": "key",
          "password": "secret", "secure": False}, "http://127.0.0.1:9000"),
        ("s3://key:s%40c%2Fret@h:443/b",
         {"bucket": "b", "host": "h", "port": 443, "user": "key", "password": "s@c/ret"}, "https://h:443"),
        ("s3://AKID:raw/secret+x@h:9000/b",  # AWS secrets hold "/" and "+", often unescaped
         {"bucket": "b", "host": "h", "port": 9000, "user": "AKID", "password": "raw/secret+x",
          "secure": False},
         "http://h:9000"),
        ("s3://key@minio.example/b", {"bucket": "b", "host": "minio.example", "user": "key"},
         "https://minio.example"),
        ("s3+https://minio.example/b/p", {"bucket": "b", "prefix": "p", "host": "minio.example"},
         "https://minio.example"),
        ("s3+http://minio.example:443/b",
         {"bucket": "b", "host": "minio.example", "port": 443, "secure": False},
         "http://minio.example:443"),
        ("s3+https://[::1]:9000/b", {"bucket": "b", "host": "[::1]", "port": 9000},
         "https://[::1]:9000"),
        ("s3://bucket/data@v1", {"bucket": "bucket", "prefix": "data@v1"}, None),
        ("s3://bucket/a%20b/100%25", {"bucket": "bucket", "prefix": "a b/100%"}, None),
    ],
)
def test_s3_forms(text: str, fields: dict[str, object], endpoint: str | None) -> None:
    url = parse_store_url(text)
    assert url == StoreURL("s3", **fields)  # type: ignore[arg-type]
    assert url.password == fields.get("password", "")
    assert url.endpoint == endpoint
    assert parse_store_url(url.unredacted()) == url  # round trip
    assert parse_store_url(url.unredacted()).password == url.password


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("ssh://host/srv/lake", {"host": "host", "path": "/srv/lake"}),
        ("ssh://data@host:2222/srv/lake", {"host": "host", "user": "data", "port": 2222,
                                           "path": "/srv/lake"}),
        ("ssh://host/~/lake", {"host": "host", "path": "lake"}),
        ("ssh://host", {"host": "host", "path": "."}),
        ("ssh://[::1]:22/x", {"host": "[::1]", "port": 22, "path": "/x"}),
        ("ssh://host/srv/my%20lake%2541", {"host": "host", "path": "/srv/my lake%41"}),
        ("host:lake", {"host": "host", "path": "lake"}),
        ("host:~/lake", {"host": "host", "path": "lake"}),
        ("data@host:/srv/lake", {"host": "host", "user": "data", "path": "/srv/lake"}),
        ("lazytest:/srv/lake:odd", {"host": "lazytest", "path": "/srv/lake:odd"}),
        ("[::1]:lake", {"host": "[::1]", "path": "lake"}),
        ("data@[fe80::1]:/x", {"host": "[fe80::1]", "user": "data", "path": "/x"}),
    ],
)
def test_ssh_forms(text: str, fields: dict[str, object]) -> None:
    url = parse_store_url(text)
    assert url == StoreURL("ssh", **fields)  # type: ignore[arg-type]
    assert parse_store_url(url.unredacted()) == url


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ssh://-oProxyCommand=touch%20pwned/x", "host must not start with '-'"),
        ("ssh://-oProxyCommand=x@host/x", "user must not start with '-'"),
        ("-oProxyCommand=touch_pwned:lake", "host must not start with '-'"),
        ("-luser@host:lake", "user must not start with '-'"),
        ("host:", "no folder after 'host:'"),
        ("s3://-key:pw@host:9000/b", "user must not start with '-'"),
        ("s3://key:pw@-host:9000/b", "host must not start with '-'"),
        ("ssh://host/srv/lake\n", "control characters"),
        ("ssh://ho\rst/srv", "control characters"),
        ("s3://bucket/pre\x00fix", "control characters"),
        ("/srv/la\x1bke", "control characters"),
        ("host\n:lake", "control characters"),
        ("s3://", "empty bucket"),
        ("s3:///prefix", "empty bucket"),
        ("s3://h:9000/", "empty bucket"),
        ("s3://h:9000", "empty bucket"),
        ("s3://bucket/a/../b", "'..'"),
        ("s3://bad_bucket!/x", "bad bucket name"),
        ("ssh:///srv", "empty host"),
        ("ssh://user@/srv", "empty host"),
        ("ssh://host:0/x", "bad port"),
        ("ssh://host:99999/x", "bad port"),
        ("ssh://host:x/y", "bad port"),
        ("ssh://host:/y", "empty port"),
        ("ssh://ho st/y", "bad host"),
        ("http://example.com/lake", "unknown scheme 'http'"),
        ("gs://bucket/x", "unknown scheme 'gs'"),
        ("file://server/share", "must be local"),
        ("ssh://host/~other/x", "'~user' paths"),
        (" /srv/lake", "spaces"),
    ],
)
def test_rejections(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as info:
        parse_store_url(text)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message and "\x00" not in message


SECRET = "pa55-Wörd/+=x"


@pytest.mark.parametrize(
    "text",
    [
        "s3://AKID:pa55-W%C3%B6rd%2F%2B%3Dx@minio:9000/b/p",
        "ssh://data:pa55-W%C3%B6rd%2F%2B%3Dx@host/srv",
    ],
)
def test_password_never_shown(text: str) -> None:
    url = parse_store_url(text)
    assert url.has_password and url.password == SECRET
    for shown in (str(url), repr(url), url.redacted(), f"{url}", f"{url!r}", str([url])):
        assert SECRET not in shown and "pa55" not in shown
        assert ":***@" in shown
    assert "pa55" not in redact(f"failed: {text} and {url.unredacted()} and {SECRET}")
    assert not parse_store_url("s3://b/p").has_password


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("s3://AKID:top%0Asecret@minio:9000/b", "password"),
        ("s3://AK%0DID:topsecret@minio:9000/b", "user name"),
        ("ssh://us%00er@host/srv", "user name"),
    ],
)
def test_credentials_in_a_url_holding_a_newline_or_nul_are_refused_unshown(text: str, what: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_store_url(text)
    assert str(info.value) == f"the {what} in the store URL contains a newline, carriage return or NUL; refusing to send it"


@pytest.mark.parametrize("var", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"])
def test_credentials_from_the_environment_holding_a_newline_are_refused_unshown(
    var: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from git_lazydata.stores.s3_credentials import resolve_credentials

    for name, value in {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
                        "AWS_SESSION_TOKEN": "FwoGZXIvYXdz"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(var, os.environ[var] + "\r\nX-Injected: 1")
    with pytest.raises(ConfigError) as info:
        resolve_credentials(parse_store_url("s3://bucket/p"), None, session=None)
    assert "contains a newline, carriage return or NUL" in str(info.value)
    assert "Injected" not in str(info.value) and os.environ[var][:8] not in str(info.value)


def test_bad_url_message_hides_the_password() -> None:
    with pytest.raises(ConfigError) as info:
        parse_store_url("s3://AKID:Top/Secret+Key@host:99999/b")
    assert "Top/Secret" not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKID%2F2024"
         "&X-Amz-Signature=abcdef0123&X-Amz-Security-Token=FQoGZXIvYXdzEJr%2F",
         ["AKID", "abcdef0123", "FQoGZX"]),
        ("Authorization: AWS4-HMAC-SHA256 Credential=AKID/2024, Signature=deadbeef\r\nHost: x",
         ["AKID", "deadbeef"]),
        ("{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKID/x, Signature=beef', "
         "'X-Amz-Security-Token': 'tok3n'}", ["AKID", "beef", "tok3n"]),
        ("x-amz-security-token: tok3n-value", ["tok3n"]),
        ("https://user:hunter22@example.com/repo and ssh://u:p%40ss@h/x", ["hunter22", "p%40ss"]),
    ],
)
def test_redact_patterns(text: str, hidden: list[str]) -> None:
    scrubbed = redact(text)
    for secret in hidden:
        assert secret not in scrubbed
    assert "***" in scrubbed


def test_redact_neutralises_terminal_escapes() -> None:
    assert redact("server said \x1b[31mboom\x07\r") == "server said ?[31mboom??"


def test_registered_secrets_are_scrubbed_anywhere() -> None:
    register_secret("wJalrXUtnFEMI/K7MDENG")
    register_secret("abc")  # too short to scrub safely: ignored
    register_secret(None)
    text = redact("boto said: key wJalrXUtnFEMI/K7MDENG (quoted: wJalrXUtnFEMI%2FK7MDENG) abc")
    assert "wJalr" not in text and text.endswith("abc")


def test_urls_import_is_light() -> None:
    code = (
        "import sys, git_lazydata.stores, git_lazydata.stores.urls, git_lazydata.stores.folder\n"
        "heavy = {'boto3', 'botocore', 'paramiko'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root,
                   env=dict(os.environ, PYTHONPATH=str(root)))
