"""A local web page to review what the scanner was unsure of (``formkit review``)."""
