"""Valid GB 11643 ID numbers for tests (the checksum computed here, independently)."""

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def make_id(region: str = "520111", birth: str = "19900101", seq: str = "123") -> str:
    body = f"{region}{birth}{seq}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + CHECK[total % 11]


def wrong_checksum(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")
