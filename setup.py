"""Install the manual page in editable installs too; everything else is in pyproject.toml.

pyproject.toml lists ``docs/git-lazy.1`` as a data file, which a regular install puts
at ``<prefix>/share/man/man1/git-lazy.1``, where ``man git-lazy`` (and so
``git lazy --help``) finds it. setuptools' editable wheel (``pip install -e``) means
to copy data files as well, but asks the distribution ``has_data()``, a method that
does not exist (it is ``has_data_files()``), and so silently leaves them out. Naming
the method it asks for is enough; a setuptools that asks the right name ignores it.
"""

from setuptools import setup
from setuptools.dist import Distribution


class _Distribution(Distribution):
    def has_data(self) -> bool:
        """What setuptools' editable_wheel asks before it installs the data files."""
        return self.has_data_files()


setup(distclass=_Distribution)
