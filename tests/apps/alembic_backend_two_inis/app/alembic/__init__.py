# A package (for the type checker): run beside it, `python -m alembic` would import this
# instead of Alembic.
