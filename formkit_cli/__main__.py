"""``python -m formkit_cli``: the ``formkit`` command."""

from . import main

main()
