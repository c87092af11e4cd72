"""Python source that makes the heavy libraries unimportable, for subprocess tests of the
promise that the checker (and `geomcheck check`) needs only the standard library."""

BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'numpy', 'scipy', 'sympy', 'cvxpy', 'torch', 'flint', 'highspy'}:
            raise ImportError('blocked ' + name)
        return None
sys.meta_path.insert(0, Block())
"""
