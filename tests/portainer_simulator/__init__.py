"""A Portainer API simulator backed by a real Docker engine, for integration tests.

See README.md in this directory. This package is test infrastructure only; it is
not part of the built collection.
"""

__all__ = []
