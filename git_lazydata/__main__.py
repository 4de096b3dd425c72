"""``git-lazy`` entry point: plumbing that git runs often bypasses the command line parser.

``filter-process``, ``clean``, ``smudge``, ``hook`` and ``merge-driver`` start on
ordinary git commands, so they are dispatched here without importing click (~27 ms).
"""

from __future__ import annotations

import sys

from .settings import absolute_git_paths

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run git-lazy with ``argv`` (default: the process arguments)."""
    args = sys.argv[1:] if argv is None else argv
    absolute_git_paths()
    if args and args[0] in ("filter-process", "clean", "smudge"):
        from .filter import main as filter_main

        return filter_main(args)
    if args and args[0] == "hook":
        from .hooks import main as hook_main

        return hook_main(args[1:])
    if args and args[0] == "merge-driver":
        from .hooks import merge_driver

        return merge_driver(args[1:])
    from .cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
