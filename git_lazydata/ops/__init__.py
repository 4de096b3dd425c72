"""One module per command, with helper modules beside the large ones (migrate, fsck).

Each returns data and never prints; the command line (cli.py and cli_*.py) renders it.
"""
