"""Implementations of the host seam (core/host.py). Only modules in this package import the Docker
SDK or paramiko; the rest of the package reaches them through `hosts.open_host`."""
