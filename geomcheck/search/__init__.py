"""Fast, untrusted search: numpy / scipy / HiGHS / cvxpy.

Nothing here is believed on its own: a float answer is an *estimate* until an
exact computation (geomcheck.exact / geomcheck.model) or the checker confirms
it. This package may import the trusted layers; they never import it.
"""
