"""Dataset-format tests (a package, so its conftest and helpers never clash with other test folders')."""
