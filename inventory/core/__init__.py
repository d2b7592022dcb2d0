"""The bottom layer: the error tree, the settings, the event contract, the records the
flow passes on, time formats and dead-letter reason codes.

Imports nothing else of the project; everything else may import it.
"""
