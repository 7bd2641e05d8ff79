"""Data-quality flags: learners whose records or progress look too good to be true."""
