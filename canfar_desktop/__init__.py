"""CANFAR Desktop: CANFAR-style interactive sessions as containers on a Docker host you choose."""

__version__ = "0.1.0"
