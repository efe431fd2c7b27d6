"""Links from assets to entities of other modules: their shapes and rules."""
