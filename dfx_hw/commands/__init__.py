"""Subcommands of the ``dfx`` command line; see :mod:`dfx_hw.cli`."""
