"""Tags: coloured labels that assets carry."""
