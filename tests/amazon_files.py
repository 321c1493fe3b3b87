"""Small Amazon Reviews files (2018 format) written by the tests themselves: the real
data forbids redistribution."""

import gzip
import json
from pathlib import Path


def write(path: Path, *lines: str) -> Path:
    """A text file of these lines, each ended by a newline."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def tsv(*fields: str) -> str:
    """One tab-separated line (Amazon-KG's .inter and .link files)."""
    return "\t".join(fields)


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    data = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data))
    return path


def review(user: str, asin: str, rating: object, ts: object) -> str:
    return json.dumps(
        {
            "overall": rating,
            "verified": True,
            "reviewTime": "01 1, 2016",
            "reviewerID": user,
            "asin": asin,
            "reviewText": "Fine.",
            "unixReviewTime": ts,
        }
    )


def files_2018(tmp_path: Path) -> tuple[Path, Path]:
    reviews = write_lines(
        tmp_path / "Movies_and_TV_5.json.gz",
        [
            review("U1", "A3", 3.0, 300),
            review("U1", "A2", 4.0, 100),
            review("U1", "A1", 5.0, 300),
            review("U2", "A1", 2.0, 50),
            review("U2", "A2", 1.0, 60),
        ],
    )
    meta = write_lines(
        tmp_path / "meta_Movies_and_TV.json.gz",
        [
            json.dumps(
                {
                    "asin": "A1",
                    "title": "First",
                    "description": ["Para one.", "Para two."],
                    "category": ["Movies & TV", "Drama"],
                    "brand": "Studio X",
                    "also_buy": ["A2", "NOT-HERE"],
                    "also_view": ["A3"],
                    "price": "$9.99",
                    "main_cat": "Movies & TV",
                }
            ),
            json.dumps(
                {
                    "asin": "A2",
                    "title": "Second",
                    "description": [],
                    "category": ["Movies & TV", "Comedy"],
                    "brand": "",
                    "also_buy": [],
                    "also_view": ["A1"],
                }
            ),
            json.dumps({"asin": "A3", "title": "Third", "category": ["Movies & TV"], "tech1": ""}),
            json.dumps({"asin": "A9", "title": "Nobody reviewed me", "category": ["Books"]}),
        ],
    )
    return reviews, meta
