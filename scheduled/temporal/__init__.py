"""The Temporal adapter: the only package that imports temporalio."""
