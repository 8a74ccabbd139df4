"""The export's formats, one module each, all written from the same tables (``frames``): ``xlsx`` (Excel),
``spss`` (``.sav``), ``stata`` (``.dta``) and ``redcap`` (a data dictionary and import files); CSV is written
by ``formkit.export`` itself. ``variables`` and ``labelled`` hold what the typed formats share: each column's
label, kind and range, the codes that keep apart why a value is empty, and names a format accepts."""
