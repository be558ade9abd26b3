"""Imported as ``databases`` from within src/, as an IDE's sources root has it."""

WHERE = "src/databases.py"
