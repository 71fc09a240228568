"""The router: ring all-gather (SYNC, SYNCS) over Aurora-shaped links (docs/router.md).

Modules: :mod:`.router` (the unit), :mod:`.link_port` (clock crossing, RX FIFO, link status),
:mod:`.credits` (flow control), :mod:`.read_pipe` (staging-memory reads with back-pressure),
:mod:`.packer` (element realignment into register-file words), :mod:`.decode` (SYNC/SYNCS
words), :mod:`.monitor` (error status), :mod:`.ring` (N routers for the benches).
"""
