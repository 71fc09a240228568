"""Bus signatures (Amaranth ``lib.wiring``) of the core's external and internal buses: AXI4,
AXI4-Lite and the Aurora-shaped ring link. One module per bus; import them directly."""
