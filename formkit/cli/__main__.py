"""``python -m formkit.cli``: the ``formkit`` command."""

from . import main

main()
