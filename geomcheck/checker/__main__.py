"""``python -m geomcheck.checker CERT [--sha256 HEX] [--model MODEL.json]``: the checker alone (stdlib only); exit
status 0 only when the certificate is accepted. ``--model``: the exchange file of a certificate named by sha256."""

import argparse

from geomcheck.checker import check_file
from geomcheck.checker.core import Rejected, load_json


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geomcheck.checker", description=__doc__)
    parser.add_argument("certificate", metavar="CERT")
    parser.add_argument("--sha256", help="require this model hash (geomcheck model show prints it)")
    parser.add_argument("--model", help="the exchange .json file (exact \"p/q\" numbers) of a certificate's model")
    args = parser.parse_args(argv)
    try:
        model = None if args.model is None else load_json(open(args.model, encoding="utf-8").read())
    except (OSError, ValueError, RecursionError, Rejected) as exc:
        print(f"rejected: read: cannot read {args.model} ({type(exc).__name__})")
        return 1
    verdict = check_file(args.certificate, args.sha256, model=model)
    print(verdict.message)
    return 0 if verdict.accepted else 1


if __name__ == "__main__":
    raise SystemExit(main())
