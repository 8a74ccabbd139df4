"""The external programs and libraries the scanner drives, each wrapped in its own small module (as OCRmyPDF
does): what it needs, how it is found, how it fails. Nothing here knows about forms."""
