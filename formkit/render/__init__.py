"""Draw the layout model to PDF (reportlab)."""
