"""Text that reaches the user's terminal: names from a repository or a store, escaped.

File names and messages can come from a cloned repository or a remote store, and a
name holding terminal escape sequences must not be able to rewrite what the user
sees. Everything printed that did not come from git-lazy itself goes through
:func:`printable`. Standard library only.
"""

from __future__ import annotations

__all__ = ["error_line", "path_text", "printable"]


def printable(text: str) -> str:
    """Replace control and other unprintable characters by ``\\xNN`` style escapes."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def path_text(path: bytes | str) -> str:
    """A git path (bytes, as git names it) made printable."""
    if isinstance(path, bytes):
        path = path.decode("utf-8", "backslashreplace")
    return printable(path)


def error_line(message: str) -> str:
    """The line ``git-lazy: <message>`` for stderr, escaped whatever the message holds."""
    return f"git-lazy: {printable(message)}\n"
