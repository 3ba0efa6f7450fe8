"""Decisions and their execution against a port: the one pass, the pure planner, the diff, the inventory, apply."""
