"""Amaranth platforms of the boards DFX runs on (amaranth-boards has no Alveo card)."""
