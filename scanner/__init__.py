"""The image pipeline: ingest -> locate -> register -> read -> resolve -> store.

Each stage is a small module of plain functions over numpy arrays; pixels exist only here, the
geometry comes from ``formkit.layout`` in millimetres.
"""
