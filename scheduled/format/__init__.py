"""The file format: a tree of workflow files -> desired schedules + file:line:col diagnostics. Reads files, never Temporal."""
