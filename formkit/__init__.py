"""formkit: print paper forms, read them back from scans and photos, export results.

The layout model (``formkit.layout``) is the single source of geometry: the PDF renderer draws from
it and the scanner reads with it.
"""

__version__ = "0.1.0"
