"""Storage: the database handle, its tables, one repository per concern, Parquet export, MP4 files.

The only package that issues SQL.
"""
