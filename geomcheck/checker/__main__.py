"""``python -m geomcheck.checker CERT [--sha256 HEX]``: the checker alone.

The entry point for a reviewer who trusts nothing but this package and the
standard library: it loads no command modules and no model loaders.
Exit status 0 only when the certificate is accepted.
"""

import argparse
import sys

from geomcheck.checker import check_file


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geomcheck.checker", description=__doc__.splitlines()[0])
    parser.add_argument("certificate", metavar="CERT")
    parser.add_argument("--sha256", default=None, help="require this model hash (geomcheck model show prints it)")
    args = parser.parse_args(argv)
    verdict = check_file(args.certificate, args.sha256)
    print(verdict.message)
    return 0 if verdict.accepted else 1


if __name__ == "__main__":
    sys.exit(main())
