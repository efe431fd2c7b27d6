"""Links from assets to entities of other modules, and each entity's gallery."""
