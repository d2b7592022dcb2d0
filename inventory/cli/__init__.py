"""The ``inventory`` command line: parsing arguments and printing results, nothing else.

The top layer: it may import anything, nothing imports it.
"""
