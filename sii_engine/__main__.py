"""``python -m sii_engine``: see :mod:`sii_engine.cli`."""

from .cli import main

raise SystemExit(main())
