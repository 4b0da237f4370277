"""Build the development corpora of the story benchmarks into ``.cache/datasets/``.

``python -m bench.datasets [--ecbplus-repo GIT_DIR] [--sentences-repo GIT_DIR]``

ECB+ (Cybulska & Vossen, LREC 2014, CC BY 3.0): 982 news articles in 43
topics; each topic holds two sub-topics about two similar but different
events (two earthquakes, two celebrity rehab check-ins, two Apple product
launches), which is exactly the confusion a story clusterer must avoid. The
gold story of an article is its sub-topic (``10ecb`` vs ``10ecbplus``).

Where the data comes from: the corpus zip of the official repository
(github cltl/ecbPlus) is a large binary the mirror does not hold, so the
tokens are read from a public re-export of the same corpus,
github anastasia-zhukova/Diverse_CDCR_datasets, ``ECBplus-prep/output_data/
test_parsing/<topic><ecb|ecbplus>/annotation/original/`` (one CoNLL file of
tokens per sub-topic, and one JSON file of gold entity mentions). The list of
sentences that ECB+ annotators covered is read from the official repository
(``ECB+_LREC2014/ECBplus_coreference_sentences.csv``) when present. Both
repositories are brought to ``/work/.mirror/<owner>+<name>/repo`` with the
session's ``fetch`` tool (a git directory without a work tree); this script
reads them with ``git cat-file`` and never touches the network.

Output, one JSON object per article, ``.cache/datasets/ecbplus.jsonl``::

    {"id": "1_10ecbplus", "topic": "1", "subtopic": "1ecbplus",
     "cluster": "1ecbplus", "title": "...", "paragraphs": ["...", ...],
     "sentence_ids": [2, 3, ...],   # ECB+ sentence number of each paragraph
     "annotated": [1, 3],           # sentences ECB+ annotators covered
     "names": [{"text": "Lindsay Lohan", "type": "HUMAN_PART_PER", "sentence": 1}, ...]}

``title`` is the headline of ``ecbplus`` articles (the sentence after the
URL line); ``ecb`` articles have none (their first sentence is the lead).
Text is rebuilt from tokens (spaces before punctuation removed). ``names``
are the gold entity mentions whose head is a proper noun (people,
organizations, places, other participants), for the names benchmark.

Third-party text: the output lives in the git-ignored ``.cache/`` and is
never committed; rerun this script to rebuild it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / ".cache" / "datasets"
ECBPLUS_JSONL = OUT_DIR / "ecbplus.jsonl"
MIRROR = Path("/work/.mirror")
ECBPLUS_REPO = "anastasia-zhukova+Diverse_CDCR_datasets"
SENTENCES_REPO = "cltl+ecbPlus"
PREP = "ECBplus-prep/output_data/test_parsing"
SENTENCES_CSV = "ECB+_LREC2014/ECBplus_coreference_sentences.csv"
NAME_TYPES = ("HUMAN_PART", "LOC", "NON_HUMAN_PART")

_NO_SPACE_BEFORE = re.compile(r" ([.,;:!?%)\]}]|'s\b|'re\b|'ve\b|'ll\b|'d\b|'m\b|n't\b|')")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")
_CONNECTORS = frozenset("of the al el bin de da del van von der la le & -".split())


class Git:
    """Read blobs from a git directory (no work tree) through one cat-file process."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def paths(self, under: str) -> list[str]:
        out = subprocess.run(["git", "--git-dir", str(self.git_dir), "ls-tree", "-r", "--name-only",
                              "HEAD", under], check=True, capture_output=True, text=True).stdout
        return out.splitlines()

    def read(self, path: str) -> str:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(f"HEAD:{path}\n".encode())
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode().split()
        if len(header) < 3 or header[1] != "blob":
            raise FileNotFoundError(f"{path} not in {self.git_dir} ({' '.join(header)})")
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)
        return data.decode("utf-8")

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()


def detokenize(tokens: list[str]) -> str:
    s = " ".join(tokens)
    s = _NO_SPACE_BEFORE.sub(r"\1", s)
    s = _NO_SPACE_AFTER.sub(r"\1", s)
    return s.replace(" - ", "-") if " - " in s and len(tokens) < 4 else s


def read_conll(text: str) -> dict[str, dict[int, list[str]]]:
    """conll doc key ("1/1ecbplus/3") -> sentence number -> tokens."""
    docs: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 4:
            continue
        docs[cols[0]][int(cols[1])].append(cols[3])
    return docs


def proper_name(mention: dict) -> str | None:
    """The proper-noun part of a gold mention around its head ("the Los
    Angeles Angels" -> "Los Angeles Angels"), or None if the head is not a
    proper noun."""
    if mention.get("mention_head_pos") != "PROPN":
        return None
    toks, nums = mention["tokens_text"], mention["tokens_number"]
    head = nums.index(mention["mention_head_id"]) if mention["mention_head_id"] in nums else len(toks) - 1
    if not toks[head][:1].isupper():
        return None
    lo = hi = head
    while lo > 0 and (toks[lo - 1][:1].isupper() or (toks[lo - 1].lower() in _CONNECTORS
                                                    and lo > 1 and toks[lo - 2][:1].isupper())):
        lo -= 1
    while hi + 1 < len(toks) and (toks[hi + 1][:1].isupper() or (toks[hi + 1].lower() in _CONNECTORS
                                                                and hi + 2 < len(toks)
                                                                and toks[hi + 2][:1].isupper())):
        hi += 1
    return detokenize(toks[lo:hi + 1])


def annotated_sentences(git: Git | None) -> dict[str, list[int]]:
    if git is None:
        return {}
    out: dict[str, list[int]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(git.read(SENTENCES_CSV))):
        out[f"{row['Topic']}_{row['File']}"].append(int(row["Sentence Number"]))
    return out


def build_ecbplus(repo: Path, sentences_repo: Path | None) -> list[dict]:
    git = Git(repo)
    sent_git = Git(sentences_repo) if sentences_repo else None
    try:
        annotated = annotated_sentences(sent_git)
        subtopics = sorted({p.split("/")[3] for p in git.paths(PREP) if p.endswith(".conll")},
                           key=lambda s: (int(re.match(r"\d+", s).group()), s))
        records = []
        for sub in subtopics:
            topic = re.match(r"\d+", sub).group()
            kind = sub[len(topic):]
            base = f"{PREP}/{sub}/annotation/original"
            docs = read_conll(git.read(f"{base}/{sub}.conll"))
            names: dict[str, list[dict]] = defaultdict(list)
            for m in json.loads(git.read(f"{base}/entity_mentions_{sub}.json")):
                name = proper_name(m)
                if name and m["mention_full_type"].startswith(NAME_TYPES):
                    names[m["doc_id"]].append({"text": name, "type": m["mention_full_type"],
                                               "sentence": int(m["sent_id"])})
            # a sub-topic file may also hold other topics' documents ("9ecbplus" has 19, 29...)
            own = [k for k in docs if k.split("/")[1] == sub]
            for key in sorted(own, key=lambda k: int(k.rsplit("/", 1)[1])):
                doc_id = f"{topic}_{key.rsplit('/', 1)[1]}{kind}"
                sents = docs[key]
                ids = sorted(sents)
                title = None
                if ids and sents[ids[0]] and sents[ids[0]][0].lower().startswith("http"):
                    ids = ids[1:]  # the URL line of ecbplus articles
                    if ids:
                        title, ids = detokenize(sents[ids[0]]), ids[1:]
                paragraphs = [detokenize(sents[i]) for i in ids]
                records.append({"id": doc_id, "topic": topic, "subtopic": sub, "cluster": sub,
                                "title": title, "paragraphs": paragraphs, "sentence_ids": ids,
                                "annotated": sorted(annotated.get(doc_id, [])),
                                "names": names.get(doc_id, [])})
        return records
    finally:
        git.close()
        if sent_git:
            sent_git.close()


def load_ecbplus(path: Path = ECBPLUS_JSONL) -> list[dict]:
    """The records written by ``main``; a clear error if the corpus was never built."""
    if not path.exists():
        raise SystemExit(f"{path} is missing: build it with `python -m bench.datasets`")
    with path.open() as f:
        return [json.loads(line) for line in f]


def _find(name: str) -> Path | None:
    p = MIRROR / name / "repo"
    return p if p.exists() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.datasets", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ecbplus-repo", type=Path, default=_find(ECBPLUS_REPO),
                    help=f"git dir of the ECB+ re-export (default: {MIRROR}/{ECBPLUS_REPO}/repo)")
    ap.add_argument("--sentences-repo", type=Path, default=_find(SENTENCES_REPO),
                    help="git dir of cltl/ecbPlus, for the annotated-sentence list (optional)")
    ap.add_argument("--out", type=Path, default=ECBPLUS_JSONL)
    args = ap.parse_args(argv)
    if args.ecbplus_repo is None:
        print(f"no ECB+ snapshot: fetch github:{ECBPLUS_REPO.replace('+', '/')} "
              f"(it lands in {MIRROR}) or pass --ecbplus-repo", file=sys.stderr)
        return 2
    records = build_ecbplus(args.ecbplus_repo, args.sentences_repo)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    with tmp.open("w") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(args.out)
    topics = {r["topic"] for r in records}
    clusters = {r["cluster"] for r in records}
    print(f"{args.out}: {len(records)} articles, {len(topics)} topics, {len(clusters)} gold stories, "
          f"{sum(len(r['names']) for r in records)} gold proper-name mentions, "
          f"{sum(1 for r in records if r['title'])} with a title")
    return 0


if __name__ == "__main__":
    sys.exit(main())
