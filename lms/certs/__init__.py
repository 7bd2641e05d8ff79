"""Certificates: issued on course completion, verified publicly, printed in bulk (see models)."""
