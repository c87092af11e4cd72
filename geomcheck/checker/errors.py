"""The checker's one error: a certificate failed a named step."""


class Rejected(Exception):
    def __init__(self, step: str, why: str):
        super().__init__(f"{step}: {why}")
        self.step, self.why = step, why


def require(condition: bool, step: str, why: str) -> None:
    if not condition:
        raise Rejected(step, why)
