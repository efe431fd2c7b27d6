"""Media assets: records, their files and their tags."""
