"""olist6: six Olist files about the same 752 orders (MANIFEST.toml), their subset script and truth."""
