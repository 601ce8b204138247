"""Result storage: SQLAlchemy tables, the repository, Parquet export."""
