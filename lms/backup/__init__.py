"""Backups of the whole database, and restoring one (`flask backup create|restore`).

A backup is two files: the data (`PATH`: a consistent copy of the SQLite database made
with SQLite's online backup API, or a `pg_dump --format=custom` archive) and a manifest
next to it (`PATH.manifest.json`: when, which engine, the schema revision, the row count
of every table and the data file's SHA-256). Both are taken from one snapshot, so the
counts are those of the data, even while the site keeps writing.

Restoring checks the manifest first (same engine, same schema revision as this code,
file intact), replaces the database's content, then counts the rows again and compares.
"""
