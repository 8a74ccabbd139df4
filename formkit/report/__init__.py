"""Printed reports from the store: a progress page per person (``person``) and a service report
(``service``). ``data`` gathers what they show through the export's own scoring, ``charts`` draws with
reportlab's graphics, ``common`` holds the fonts, colours and page styles they share."""
