"""Esper processors, one per file, each named by the stage it runs."""
