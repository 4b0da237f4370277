# Over 500 lines: one decoding-and-cleaning pass whose steps share their regexes and tables; kept whole so the order of steps reads top to bottom.
"""Turn a RawArticle (plain text, HTML or markdown) into a clean Article.

Why this exists: everything downstream (dedup, tagging, rules) must see the
*article*, not the page it was scraped from. A shared legal disclaimer or a
CSS fragment would make unrelated stories look alike to dedup and would feed
junk entities to the tagger, and a page header date would date a 2023 story
to the day it was scraped.

Design, in order:

1. Decode: HTML goes through trafilatura (main-text extraction with
   ``favor_precision``), markdown is flattened with a few regexes, plain text
   is used as is. Input is truncated to a bounded size first.
2. Split into units (one per line, or one per blank-line block when the text
   is hard-wrapped).
3. Header pass: pull metadata off the top (``date 2023-09-12`` lines, page
   chrome dates, breadcrumbs, the headline and its repeat, ``By ...`` bylines,
   editorial notes, syndication markers, the dateline).
4. Body pass: drop boilerplate units. Every heuristic is a small named
   pattern/function below, each matching *one kind* of junk. They are
   deliberately conservative: a unit is dropped only on a positive match of a
   known junk shape, never because it "looks short".
5. Dates: the article's own evidence wins (metadata line, HTML metadata,
   dateline month/day with the year inferred from context), then
   ``RawArticle.published``. A page-chrome date above the headline (e.g.
   "Saturday, May 18, 2024") is the scrape date: it is never used as the
   publication date, only as an upper bound when inferring a dateline year.

The module is pure Python (no I/O, no Kafka).
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.enrich import bytetable
from monitor.enrich.sentences import sentence_spans
from monitor.models import Article, RawArticle

MAX_HTML_CHARS = 2_000_000  # bigger pages are truncated before parsing
MAX_TEXT_CHARS = 300_000  # bigger texts are truncated (a long report is ~60k)

# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
    "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|"
    r"Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_WEEKDAY = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?"
_ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
# "May 18, 2024" / "Sept. 12, 2023"
_MDY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}}),?\s+((?:19|20)\d\d)\b", re.IGNORECASE)
# "18 May 2024"
_DMY = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\.?,?\s+((?:19|20)\d\d)\b", re.IGNORECASE)

# A metadata line some scrapers prepend: " date 2023-09-12 ..." (may continue
# with the article on the same line, so only the prefix is consumed).
_META_DATE_PREFIX = re.compile(
    r"^\s*(?:date|published|posted(?:\s+on)?|updated|last updated)\s*[:\-]?\s*"
    r"((?:19|20)\d\d-\d\d-\d\d)(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?\s*",
    re.IGNORECASE,
)
# A line that is only a date, optionally with weekday: page chrome when it
# comes before the headline, the article's own date when it follows it.
_BARE_DATE_LINE = re.compile(
    rf"^(?:{_WEEKDAY},?\s+)?(?:{_MONTH}\.?\s+\d{{1,2}},?\s+(?:19|20)\d\d|"
    rf"\d{{1,2}}\s+{_MONTH}\.?,?\s+(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)"
    r"(?:\s*[|,]?\s*\d{1,2}:\d\d(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*[A-Z]{2,4})?)?$",
    re.IGNORECASE,
)


def _month_num(name: str) -> int:
    key = name.lower().rstrip(".")
    return _MONTHS.get(key) or _MONTHS[key[:3]]


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def parse_date_text(s: str) -> date | None:
    """First full date (with year) in `s`: ISO, "Sept. 12, 2023" or "12 Sept 2023"."""
    if m := _ISO_DATE.search(s):
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _MDY.search(s):
        return _safe_date(int(m[3]), _month_num(m[1]), int(m[2]))
    if m := _DMY.search(s):
        return _safe_date(int(m[3]), _month_num(m[2]), int(m[1]))
    return None


def _full_dates(text: str) -> list[date]:
    """Every full date written in `text` (context for inferring a year)."""
    out: list[date] = []
    for m in _ISO_DATE.finditer(text):
        if d := _safe_date(int(m[1]), int(m[2]), int(m[3])):
            out.append(d)
    for m in _MDY.finditer(text):
        if d := _safe_date(int(m[3]), _month_num(m[1]), int(m[2])):
            out.append(d)
    for m in _DMY.finditer(text):
        if d := _safe_date(int(m[3]), _month_num(m[2]), int(m[1])):
            out.append(d)
    return out


def infer_year(
    month: int, day: int, *, near: date | None, context: list[date], upper: date | None
) -> date | None:
    """Date for a year-less dateline ("Sept. 13").

    Evidence, strongest first: a known publication time (`near`), full dates
    written in the article with the same month (`context`: a story dated
    Sept. 13 that mentions "Sept. 12, 2023" is from 2023), then the most recent
    such date not after `upper` (a scrape date: articles predate scrapes).
    """
    if near is not None:
        cands = [_safe_date(near.year + k, month, day) for k in (-1, 0, 1)]
        cands_ok = [c for c in cands if c is not None]
        return min(cands_ok, key=lambda c: abs((c - near).days), default=None)
    same_month = [d for d in context if d.month == month and (upper is None or d <= upper)]
    if same_month:
        anchor = max(same_month)
        return _safe_date(anchor.year, month, day)
    if upper is not None:
        for y in (upper.year, upper.year - 1):
            c = _safe_date(y, month, day)
            if c is not None and c <= upper:
                return c
    return None


# --------------------------------------------------------------------------
# Header patterns (top of the article)
# --------------------------------------------------------------------------

# Editorial notes to subscribers: "(ATTN: UPDATES throughout ...)", "(LEAD)",
# "(2nd LD)", "(URGENT)", "(EDS: ...)", "(CORRECTS ...)". Stripped wherever a
# unit starts with one; they are instructions, not news.
_EDITORIAL_NOTE = re.compile(
    r"^\s*\((?:ATTN|EDS?|EDITORS?|NOTE TO EDITORS|CORRECTS?|UPDATES?|RECASTS?|"
    r"ADDS|REFILE|REPEATS|LEAD|\d+(?:st|nd|rd|th) LD|LEADALL|URGENT|FLASH|"
    r"WRAPUP|ATTENTION)\b[^()]*\)\s*"
)
# Syndication marker: "(MENAFN- Kuwait News Agency (KUNA))" (one nesting level).
_SYNDICATION = re.compile(
    r"^\s*\((?P<via>[A-Z][A-Za-z]{2,15})\s?-\s*(?P<src>[^()]{2,60}(?:\([^()]{1,20}\))?)\)\s*"
)
# "By Lee Minji" / "By Jane Roe and John Doe, Reuters": a short line only.
_BYLINE = re.compile(
    r"^By\s+(?P<name>[A-Z][\w.'\-]+(?:\s+(?:[A-Z][\w.'\-]+|and|de|van|von|bin|al-?\w*))"
    r"{0,6})(?:\s*[,|]\s*[\w .'\-]{1,40})?\s*$"
)
# Dateline at the start of the lead: "SEOUL, Sept. 13 (Yonhap) --",
# "TOKYO, Sept 12 (KUNA) --", "KYIV, Ukraine (AP) —", "SEOUL –",
# "SEOUL, Sept. 13 (Korea Bizwire)North Korean ...".
_DATELINE = re.compile(
    rf"""^(?P<city>[A-Z][A-Z.'\-]+(?:\s+[A-Z][A-Z.'\-]+){{0,3}})
    (?:,\s*(?!{_MONTH}\b)(?P<region>[A-Z][a-z][\w.]*(?:\s[A-Z][a-z][\w.]*)?))?
    (?:,?\s+(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:,\s*(?P<year>(?:19|20)\d\d))?)?
    (?:\s*\((?P<agency>[A-Za-z][^()]{{1,39}})\))?
    \s*(?P<sep>--|—|–|\s-\s|:)?\s*""",
    re.VERBOSE,
)
# Breadcrumb trail: "Home > World > Asia", "Home / News", or the glued form
# "HomeasiaNorth Korea's Kim ..." (section names run into the headline).
_BREADCRUMB_SEP = re.compile(r"^Home\s*(?:[>»›/|•·]\s*[\w &'\-]+){1,6}\s*$")
_BREADCRUMB_GLUED = re.compile(r"^Home[a-z][a-z\-]*(?=[A-Z0-9“\"'‘])")
# Site-name suffix of a title: "Headline | Be Korea-savvy", "Headline - The Site".
_TITLE_SUFFIX = re.compile(r"\s+(?:\||–|—|-|::|»)\s+[^|–—]{2,40}$")

# --------------------------------------------------------------------------
# Body boilerplate: each pattern matches ONE kind of junk unit.
# --------------------------------------------------------------------------

_CSS_PROPS = (
    "display|content|border(?:-[a-z]+)*|height|width|min-[a-z]+|max-[a-z]+|"
    "background(?:-[a-z]+)?|margin(?:-[a-z]+)?|padding(?:-[a-z]+)?|font(?:-[a-z]+)?|"
    "color|position|top|left|right|bottom|float|clear|text-[a-z]+|line-height|"
    "z-index|opacity|transform|transition|overflow(?:-[xy])?|vertical-align|cursor|"
    "box-[a-z]+|flex(?:-[a-z]+)?|justify-content|align-[a-z]+|letter-spacing|"
    "white-space|visibility|list-style(?:-[a-z]+)?|outline|grid(?:-[a-z]+)*|gap"
)
#: CSS: a selector opening a rule (`p.st_x:before {`), a lone brace, or a
#: declaration (`display: inline-block;`).
_CSS_SELECTOR = re.compile(r"^(?:[\w.#:>~+*\[\]=\"'\- ,()]{1,120}\{\s*\}?|[{}]+|@media[^{]{0,200}\{?)$")
# declarations: lowercase property AND a closing ';' ("Background: ..." prose survives)
_CSS_DECL = re.compile(rf"^-?(?:{_CSS_PROPS})\s*:[^;{{}}]{{0,160}};\s*\}}?$")
#: JavaScript glue left by scrapers.
_JS_LINE = re.compile(
    r"(?:var|let|const|function)\s+[\w$]+\s*[=(]|(?:window|document|googletag|jQuery|\$)"
    r"[.(]|\(adsbygoogle|\}\)\(?\)?;?$|<!--|//\s*<!\[CDATA\["
)
#: Ad markers: "- Advertisment -" (sic), "ADVERTISEMENT", "Sponsored content".
_AD_MARKER = re.compile(
    r"^[-–—\s]*(?:advert[iy]?s(?:e|)ments?|ads?|sponsored(?: content)?|promoted|"
    r"story continues below(?: advertisement)?|continue reading below)[-–—\s]*$",
    re.IGNORECASE,
)
#: Comment forms and engagement prompts.
_PROMPT = re.compile(
    r"^(?:leave a (?:reply|comment)|post (?:a )?comment|add (?:a )?comment|"
    r"\d+\s+comments?|comments?(?:\s*\(\d+\))?|"
    r"your email address will not be published.*|required fields are marked.*|"
    r"you may use these html tags.*|notify me of (?:follow-up comments|new posts).*|"
    r"save my name, email, and website.*|cancel reply|"
    r"share (?:this|on \w+|via \w+)(?: article| story)?:?|click to share.*|"
    r"(?:subscribe|sign up) (?:to|for) (?:our|the) .{0,60}newsletter.*|"
    r"follow us on .{0,60}|download (?:our|the) .{0,30}app.*|"
    r"join .{0,40}(?:telegram|whatsapp) (?:channel|group).*|"
    r"get the latest .{0,60}delivered (?:to you|to your inbox).*|"
    r"(?:we|this (?:web)?site) uses? cookies.*|"
    r"read (?:more|also|next)\s*:?|also read\s*:?|recommended(?: for you)?|"
    r"you might also like|print(?: this)?(?: article)?|email this(?: article)?)$",
    re.IGNORECASE,
)
#: Block headers whose following link-title lines are a list of other stories.
_RELATED_HEADER = re.compile(
    r"^(?:more on this topic|more from [\w .]{1,30}|most (?:popular|read|viewed)|"
    r"related(?: (?:articles?|stories|news|posts|coverage|topics|content))?|"
    r"you may also like|also on [\w .]{1,30}|trending(?: now)?|top stories|"
    r"latest news|editor'?s picks|recommended stories|read more on this)\s*:?$",
    re.IGNORECASE,
)
#: Legal disclaimer header; the unit after it is the disclaimer body.
_DISCLAIMER_HEADER = re.compile(r"^(?:legal\s+)?disclaimer\s*:?$", re.IGNORECASE)
#: Disclaimer body text without a header (searched only when a keyword of
#: ``_has_disclaimer_word`` occurs, which keeps the per-unit cost low).
_DISCLAIMER_TEXT = re.compile(
    r"provides? the information .{0,12}as is.{0,12} without warranty|"
    r"we do not accept any responsibility or liability|"
    r"^(?:copyright\s*)?(?:©|\(c\)|copyright)\s*(?:19|20)\d\d\b.{0,80}$|"
    r"^(?:©|\(c\)).{0,80}$|(?:^|\.\s+)all rights reserved\.?$|"
    r"may not be (?:published|reproduced), broadcast, rewritten",
    re.IGNORECASE,
)


def _has_disclaimer_word(low: str) -> bool:
    return ("warranty" in low or "liability" in low or "rights reserved" in low or "rewritten" in low
            or "copyright" in low or "©" in low or "(c)" in low)


def _is_disclaimer(s: str) -> bool:
    return _has_disclaimer_word(s.lower()) and bool(_DISCLAIMER_TEXT.search(s))
#: Photo captions: "view larger image ..." widgets, and units that are
#: explicitly about a photo and end with a photo credit "(Yonhap)".
_VIEW_LARGER = re.compile(r"^(?:view larger image|enlarge this image|click to enlarge)\b", re.IGNORECASE)
_CREDIT_END = re.compile(r"\((?:[A-Z][\w.&/' \-]{1,40}|[A-Z]{2,}[^()]{0,40})\)\s*$")
_PHOTO_CUE = re.compile(
    r"\((?:L|R|C|\d(?:st|nd|rd|th) (?:from )?[LR])\)|\b(?:this|file|in this|a) (?:file )?"
    r"(?:photo|image|picture|handout)\b|^(?:photo|image|picture)\s*:|\bphoto (?:taken|released|shows)\b",
    re.IGNORECASE,
)
#: Standalone image credit lines: "Photo: Reuters", "(AP Photo/Ahn Young-joon)".
_PHOTO_CREDIT = re.compile(
    r"^(?:\(?(?:AP|AFP|Reuters|EPA|Getty)(?: Images)? ?Photo[^)]{0,60}\)?|"
    r"(?:photo|image|picture)(?: source)?\s*[:,]\s*.{1,50}|getty images|"
    r"image caption,?|media caption,?)$",
    re.IGNORECASE,
)
#: End-of-story markers and agency slugs: "(end)", "(Yonhap)", "mk.rk", "/jk/".
_END_MARKER_TAIL = re.compile(r"\s*\((?:end|END|End)\)\s*$")  # only tried on units ending in ")"
_STANDALONE_PAREN = re.compile(r"^\((?:[^()]{1,40}|With [^()]{1,60})\)$")
_AGENCY_SLUG = re.compile(r"^/?[a-z]{1,4}(?:[./][a-z]{1,4}){1,3}/?$")
_AGENCY_CREDITS = re.compile(
    r"^\((?:(?:Additional )?Reporting|Writing|Editing|Compiled|Translated) by [^()]{2,200}\)$", re.IGNORECASE
)
#: Tracking codes: one long token mixing letters and many digits
#: ("MENAFN12092023000071011013ID1107050546").
_TRACKING_CODE = re.compile(r"^(?=[A-Za-z0-9_\-]{16,}$)(?=(?:\D*\d){12})[A-Za-z0-9_\-]+$")

# Units that look like a headline/link title: short, no sentence punctuation.
_TITLE_LIKE_MAX_WORDS = 22


def _title_like(s: str) -> bool:
    """Short line without terminal sentence punctuation (a heading or link)."""
    words = s.split()
    return 0 < len(words) <= _TITLE_LIKE_MAX_WORDS and not s.rstrip("”\"'’ ").endswith((".", ";", ":", ","))


def _is_css(s: str) -> bool:
    # a selector or brace line holds a brace (or is "@media ..."), a declaration a ";"
    return bool((("{" in s or "}" in s or s.startswith("@media")) and _CSS_SELECTOR.match(s))
                or (";" in s and _CSS_DECL.match(s)) or s.endswith("-->"))


def _is_caption(s: str) -> bool:
    """A photo caption that talks about 'this photo'/'(L)' AND ends with a
    credit like '(Yonhap)' (a 'view larger image' widget is in _JUNK_START)."""
    return bool(_CREDIT_END.search(s) and _PHOTO_CUE.search(s))


# the patterns above that are tried at the start of a unit, as one regex (one
# call instead of nine; each keeps its own case flag)
_JUNK_START = re.compile("|".join(
    f"(?{'i' if p.flags & re.IGNORECASE else ''}:{p.pattern})"
    for p in (_AD_MARKER, _PROMPT, _PHOTO_CREDIT, _STANDALONE_PAREN, _AGENCY_SLUG, _AGENCY_CREDITS,
              _TRACKING_CODE, _JS_LINE, _VIEW_LARGER)))


def _is_junk_unit(s: str) -> bool:
    """True for a unit that is page furniture on its own (see patterns above)."""
    return bool(_JUNK_START.match(s)) or _is_css(s) or _is_disclaimer(s) or _is_caption(s)


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------

# zero-width and control characters: dropped
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ODD_HSPACE = "\t\u00a0\u2000-\u200a\u202f\u205f\u3000"  # horizontal spaces other than " "
_ODD_HSPACE_CHAR = re.compile(f"[{_ODD_HSPACE}]")
# runs of horizontal space other than a lone " " (which needs no change): the
# pattern opens with a character class, which the regex engine scans for fast
_HSPACE_RUN = re.compile(f"[ {_ODD_HSPACE}](?:(?<! )|[ {_ODD_HSPACE}])[ {_ODD_HSPACE}]*")
_QUOTES = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
})


def _clean_chars(text: str) -> str:
    """NFC, unify newlines, drop zero-width/control chars, collapse spaces."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _INVISIBLE.sub("", text)
    if "  " in text or _ODD_HSPACE_CHAR.search(text):  # most texts have single spaces only
        text = _HSPACE_RUN.sub(" ", text)
    return text


_QUOTE_PAIRS = [(chr(k), v) for k, v in _QUOTES.items()]


def fold(text: str) -> str:
    """Comparison form: NFKC, lowercase, straight quotes/dashes, one space.

    Used for content_hash and for "is this line the headline again" checks,
    so curly vs straight quotes or spacing never make two texts differ.
    Same result as ``NFKC(text).translate(_QUOTES).lower()``, split and
    joined, but without the per-character dict lookups of ``translate`` on
    non-ASCII text: each quote character present is replaced (one character
    by one, and no replacement is itself replaced), ASCII skips NFKC."""
    if text.isascii():  # NFKC leaves ASCII as it is; "`" is the one ASCII quote
        return " ".join(text.replace("`", "'").lower().split())
    text = unicodedata.normalize("NFKC", text)
    for char, straight in _QUOTE_PAIRS:
        if char in text:
            text = text.replace(char, straight)
    return " ".join(text.lower().split())


def content_hash(text: str) -> str:
    return hashlib.sha256(fold(text).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------

_TRACKING_PARAMS = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|"
    r"_ga|_gl|igshid|ocid|cmpid|cmp|ito|src|source|ref|ref_src|ref_url|referrer|"
    r"smid|smtyp|sr_share|share|via|spm|s_cid|cid|icid|ncid|mbid|__twitter_impression|"
    r"rss|feed|outputtype|amp|taid|tpcc|soc_src|soc_trk|at_medium|at_campaign|"
    r"guccounter|guce_referrer\w*)$",
    re.IGNORECASE,
)


def canonical_url(url: str | None) -> str | None:
    """URL without tracking params, fragment, default port or trailing slash;
    scheme/host lowercased, remaining params sorted. None if not http(s)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    host = host.removeprefix("www.")
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    )
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit(("https" if scheme == "http" else scheme, host, path, urlencode(query), ""))


# --------------------------------------------------------------------------
# Decoding HTML / markdown
# --------------------------------------------------------------------------


@dataclass
class _Meta:
    """What the header pass and decoders learn besides paragraphs."""

    title: str | None = None
    published: date | None = None  # the article's own date (strong evidence)
    chrome_date: date | None = None  # page header date: upper bound only
    dateline: str | None = None
    dateline_md: tuple[int, int] | None = None
    agency: str | None = None
    byline: str | None = None
    language: str | None = None


_PAGE_MARKERS = re.compile(r"<\s*(?:html|body|head)\b", re.IGNORECASE)
_BLOCK_END = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/blockquote)\b[^>]{0,200}>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]{0,2000}>")


def _from_fragment(html: str) -> str:
    """Feed summaries and content are HTML fragments, not pages: page-level
    boilerplate removal would throw their few paragraphs away, so keep all
    text, with block ends as paragraph breaks."""
    return htmllib.unescape(_ANY_TAG.sub("", _BLOCK_END.sub("\n\n", html)))


def _from_html(html: str, url: str | None, meta: _Meta) -> str:
    """Main text via trafilatura (precision-leaning, no comments/tables)."""
    html = html[:MAX_HTML_CHARS]
    if not _PAGE_MARKERS.search(html):
        return _from_fragment(html)
    import trafilatura  # imported lazily: heavy, and plain-text inputs don't need it

    try:
        doc = trafilatura.bare_extraction(
            html, url=url, favor_precision=True, include_comments=False, include_tables=False,
            with_metadata=True, deduplicate=False,
            # dates from markup only (meta tags, <time>, JSON-LD): a free-text
            # search would happily pick up the page header's "today" date
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception:  # noqa: BLE001 -- trafilatura raises assorted lxml errors on broken input
        doc = None
    get = doc.get if isinstance(doc, dict) else (lambda k: getattr(doc, k, None))
    text = get("text") if doc is not None else None
    if not text:
        try:
            return trafilatura.html2txt(html) or ""
        except Exception:  # noqa: BLE001 -- as above: no text rather than a crash
            return ""
    meta.title = get("title") or None
    meta.byline = get("author") or None
    meta.language = get("language") or None
    if published := get("date"):
        meta.published = parse_date_text(str(published))
    return str(text)


_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^```.*?^```\s*$", re.MULTILINE | re.DOTALL), ""),  # fenced code
    (re.compile(r"!\[[^\]]{0,300}\]\([^)]{0,500}\)"), ""),  # images
    (re.compile(r"\[([^\]]{0,300})\]\([^)]{0,500}\)"), r"\1"),  # links -> text
    (re.compile(r"<[^>\n]{1,300}>"), ""),  # inline html tags
    (re.compile(r"^\s{0,3}>\s?", re.MULTILINE), ""),  # blockquote
    (re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+", re.MULTILINE), ""),  # list markers
    (re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.MULTILINE), ""),  # horizontal rules
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?!\w)"), r"\1"),  # italic *x*
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])"), r"\1"),  # italic _x_
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # inline code
]
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)


def _from_markdown(md: str, meta: _Meta) -> str:
    """Flatten markdown to plain text; the first `# heading` is the title."""
    for pat, rep in _MD_RULES:
        md = pat.sub(rep, md)
    first = _MD_HEADING.search(md)
    if first and first.group(1).strip():
        meta.title = meta.title or first.group(1).strip()
    # a heading becomes its own paragraph
    return _MD_HEADING.sub(lambda m: "\n" + m.group(1) + "\n", md)


# --------------------------------------------------------------------------
# Units: lines or blank-line blocks
# --------------------------------------------------------------------------


def _is_hard_wrapped(blocks: list[list[str]]) -> bool:
    """Hard-wrapped prose (lines broken at ~70 columns inside a paragraph):
    most lines inside multi-line blocks end mid-sentence."""
    inner = [ln for b in blocks if len(b) > 1 for ln in b[:-1]]
    if len(inner) < 4:
        return False
    mid = sum(1 for ln in inner if not ln.rstrip("”\"'’)").endswith((".", "!", "?", ":")))
    lengths = sorted(len(ln) for ln in inner)
    return mid / len(inner) > 0.6 and 30 <= lengths[len(lengths) // 2] <= 110


def _units(text: str) -> list[str]:
    """One unit per line, unless the text is hard-wrapped: then one per block."""
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        line = line.strip()
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    if _is_hard_wrapped(blocks):
        # keep junk lines separate so the line filters still see them
        out: list[str] = []
        for b in blocks:
            buf: list[str] = []
            for ln in b:
                if _is_junk_unit(ln):
                    if buf:
                        out.append(" ".join(buf))
                        buf = []
                    out.append(ln)
                else:
                    buf.append(ln)
            if buf:
                out.append(" ".join(buf))
        return out
    return [ln for b in blocks for ln in b]


# --------------------------------------------------------------------------
# Header pass
# --------------------------------------------------------------------------


def _strip_title_suffix(title: str) -> str:
    """'Headline | Be Korea-savvy' -> 'Headline' (only when the head is longer)."""
    m = _TITLE_SUFFIX.search(title)
    if m and len(title[: m.start()].split()) >= 3 and len(m.group(0)) < len(title) // 2:
        return title[: m.start()].strip()
    return title.strip()


def _same_headline(a: str, b: str) -> bool:
    fa, fb = fold(a), fold(b)
    return bool(fa) and (fa == fb or fold(_strip_title_suffix(a)) == fb or fa == fold(_strip_title_suffix(b)))


def _strip_prefixes(unit: str, meta: _Meta) -> str:
    """Peel metadata off the start of a unit: date line, editorial note,
    syndication marker (any order, possibly all on the article's first line)."""
    while True:
        if m := _META_DATE_PREFIX.match(unit):
            meta.published = meta.published or parse_date_text(m.group(1))
        elif m := _EDITORIAL_NOTE.match(unit):
            pass
        elif m := _SYNDICATION.match(unit):
            src = m.group("src").strip()
            inner = re.search(r"\(([^()]{1,20})\)\s*$", src)
            meta.agency = meta.agency or (inner.group(1) if inner else src)
        else:
            return unit
        unit = unit[m.end():].lstrip()


def _take_dateline(unit: str, meta: _Meta) -> str:
    """If `unit` opens with a dateline, record it and return the rest."""
    m = _DATELINE.match(unit)
    if not m:
        return unit
    city, agency, sep = m.group("city"), m.group("agency"), m.group("sep")
    rest = unit[m.end():]
    # need a real separator: a dash, or an agency glued to the next sentence
    if not (sep or (agency and rest[:1].isupper())) or len(city.strip(".'-")) < 3 or not rest:
        return unit
    if sep == ":" and not agency and not m.group("month"):
        return unit  # "NOTE: ..." is not a dateline
    meta.dateline = city + (f", {m.group('region')}" if m.group("region") else "")
    if agency:
        meta.agency = agency.strip()
    if m.group("month"):
        mon, day = _month_num(m.group("month")), int(m.group("day"))
        if m.group("year"):
            meta.published = meta.published or _safe_date(int(m.group("year")), mon, day)
        meta.dateline_md = (mon, day)
    return rest


def _is_body_para(s: str) -> bool:
    return len(s.split()) >= 12 and not _title_like(s)


def _header(units: list[str], meta: _Meta, raw_title: str | None) -> list[str]:
    """Consume header units; return the rest with the lead de-datelined."""
    i, seen_title = 0, False
    title = _strip_title_suffix(raw_title) if raw_title else None
    if meta.title:
        title = title or _strip_title_suffix(meta.title)
    out: list[str] = []
    while i < len(units):
        u = _strip_prefixes(units[i], meta)
        i += 1
        if not u:
            continue
        if _BARE_DATE_LINE.match(u):
            d = parse_date_text(u)
            if not seen_title and not out:
                meta.chrome_date = d  # above the headline: scrape date
            else:
                meta.published = meta.published or d
            continue
        if _BREADCRUMB_SEP.match(u) or (_BREADCRUMB_GLUED.match(u) and i < len(units)):
            continue
        if _is_junk_unit(u):  # e.g. a lead photo caption above the dateline
            continue
        if m := _BYLINE.match(u):
            meta.byline = meta.byline or m.group("name").strip()
            continue
        if title and _same_headline(u, title):
            seen_title = True
            continue
        if not title and not seen_title and _title_like(u) and not _DATELINE.match(u):
            title, seen_title = _strip_title_suffix(u), True
            continue
        rest = _take_dateline(u, meta)
        if rest:
            out.append(rest)
        break  # first body unit reached
    meta.title = title
    return out + units[i:]


# --------------------------------------------------------------------------
# Body pass
# --------------------------------------------------------------------------


def _drop_blocks(units: list[str]) -> list[str]:
    """Drop related-stories blocks (header + following link titles) and
    disclaimer blocks (header + the next unit)."""
    out: list[str] = []
    i = 0
    while i < len(units):
        u = units[i]
        if _DISCLAIMER_HEADER.match(u):
            i += 2
            continue
        if _RELATED_HEADER.match(u):
            i += 1
            while i < len(units) and _title_like(units[i]) and not _is_junk_unit(units[i]):
                i += 1
            continue
        out.append(u)
        i += 1
    return out


def _drop_repeats(units: list[str]) -> list[str]:
    """Repeated units are page furniture (captions shown twice, sticky
    headers): keep the first copy, or none if it is a caption."""
    keys = [fold(u) for u in units]
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    seen: set[str] = set()
    out: list[str] = []
    for u, k in zip(units, keys, strict=True):
        if k in seen:
            continue
        seen.add(k)
        if counts[k] > 1 and _CREDIT_END.search(u) and "photo" in k:
            continue
        out.append(u)
    return out


def _clean_unit(u: str) -> str:
    """Per-unit trims: editorial notes and trailing '(end)' markers."""
    u = _EDITORIAL_NOTE.sub("", u, count=1)
    return (_END_MARKER_TAIL.sub("", u) if u.endswith(")") else u).strip()


def _body(units: list[str]) -> list[str]:
    units = [_clean_unit(u) for u in units]
    units = _drop_blocks([u for u in units if u])
    units = [u for u in units if not _is_junk_unit(u)]
    return _drop_repeats(units)


# --------------------------------------------------------------------------
# Language (cheap): script first, then stopword votes for Latin scripts
# --------------------------------------------------------------------------

_SCRIPTS: list[tuple[str, re.Pattern[str]]] = [
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
]
_STOPWORDS = {
    "en": "the and of to in is that for was on with said by as from have has".split(),
    "fr": "le la les des est et une dans pour que qui sur par avec du au".split(),
    "de": "der die das und ist nicht ein eine mit den von zu sich auf für".split(),
    "es": "el la los las del que y en por con para una es se al".split(),
    "it": "il la che di e per una sono con del della non gli nel".split(),
    "pt": "o a os que de do da em para com uma não por é ao".split(),
    "nl": "de het een en van is dat op te zijn met voor niet aan".split(),
}
_STOP_INDEX = {w: lang for lang, ws in _STOPWORDS.items() for w in ws}
_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_FIRST_SCRIPT_CHAR = "\u0370"  # the lowest character of any range in _SCRIPTS
_ANY_SCRIPT = re.compile("[" + "".join(pat.pattern[1:-1] for _, pat in _SCRIPTS) + "]")


def _letters_and_scripts(sample: str) -> tuple[int, list[tuple[str, re.Pattern[str]]]]:
    r"""``len(_LETTER.findall(sample))``, and the script patterns worth
    counting (none when no character is in any of their ranges). ASCII
    letters are counted with a byte table, the few other characters one by
    one: [^\W\d_] is alphanumeric and not a decimal digit."""
    raw = sample.encode("ascii", "replace")  # one "?" per non-ASCII code point
    if sample.isascii():
        return len(raw) - len(raw.translate(None, _ASCII_LETTERS)), []
    scripts = _SCRIPTS if _ANY_SCRIPT.search(sample) else []
    if raw.count(b"?") > 200:  # mostly non-ASCII: the regex is as fast
        return len(_LETTER.findall(sample)), scripts
    letters = len(raw) - len(raw.translate(None, _ASCII_LETTERS))
    i = raw.find(b"?")
    while i != -1:
        c = sample[i]
        if c.isalnum() and not c.isdecimal():  # "?" itself is neither
            letters += 1
        i = raw.find(b"?", i + 1)
    return letters, scripts
_LETTER = re.compile(r"[^\W\d_]")


def guess_language(text: str) -> str | None:
    """ISO 639-1 code or None when unsure. Script ranges decide non-Latin
    text; Latin text needs a clear stopword majority (>= 5 hits, 1.5x the
    runner-up). Cheap: looks at the first ~2,000 characters."""
    sample = text[:2000]
    letters, scripts = _letters_and_scripts(sample)
    if letters < 20:
        return None
    for lang, pat in scripts:
        if len(pat.findall(sample)) > letters * 0.3:
            if lang == "zh" and _SCRIPTS[1][1].search(sample):
                return "ja"
            return lang
    # language -> stopword hits, languages in order of their first hit
    votes = Counter(map(_STOP_INDEX.get, bytetable.words(sample.lower())))
    votes.pop(None, None)
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < 5:
        return None
    if len(ranked) > 1 and ranked[0][1] < 1.5 * ranked[1][1]:
        return None
    return ranked[0][0]


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def _as_datetime(d: date, raw: RawArticle) -> datetime:
    """A date as UTC midnight, or raw.published when it is the same day
    (keeps the feed's more precise time)."""
    for cand in (raw.published, raw.updated):
        if cand is not None and cand.date() == d:
            return cand
    return datetime.combine(d, time(0, 0), tzinfo=UTC)


def _resolve_published(meta: _Meta, raw: RawArticle, context_text: str) -> datetime | None:
    """Article's own date > dateline (+ inferred year) > raw.published.
    The page-chrome date only bounds year inference; it never wins."""
    if meta.published is not None:
        return _as_datetime(meta.published, raw)
    if meta.dateline_md is not None:
        near = raw.published.date() if raw.published else None
        d = infer_year(  # scanning the text for dates only matters without `near`
            *meta.dateline_md, near=near, context=[] if near else _full_dates(context_text),
            upper=meta.chrome_date,
        )
        if d is not None:
            return _as_datetime(d, raw)
    return raw.published


DERIVED_TITLE_MAX_CHARS = 110


def lead_title(paragraph: str, limit: int = DERIVED_TITLE_MAX_CHARS) -> str:
    """A title for an article that has none: its lead sentence, cut at a word
    boundary with an ellipsis when longer than ``limit``."""
    spans = sentence_spans(paragraph)
    sentence = paragraph[spans[0][0]:spans[0][1]] if spans else paragraph.strip()
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit + 1].rsplit(None, 1)[0] if " " in sentence[:limit + 1] else sentence[:limit]
    return cut.rstrip(" ,;:-–—") + "…"


def normalize(raw: RawArticle) -> Article:
    """Clean a raw article into paragraphs plus metadata (see module doc)."""
    meta = _Meta()
    content = raw.content or ""
    if raw.content_type == "html":
        text = _from_html(content, raw.url, meta)
    elif raw.content_type == "markdown":
        text = _from_markdown(content[:MAX_TEXT_CHARS], meta)
    else:
        text = content
    text = _clean_chars(text[:MAX_TEXT_CHARS])
    raw_title = _clean_chars(raw.title).strip() if raw.title else None
    units = _header(_units(text), meta, raw_title or None)
    paragraphs = _body(units)
    body = "\n\n".join(paragraphs)
    title = meta.title or None
    derived = title is None and bool(paragraphs)
    if derived:
        title = lead_title(paragraphs[0])
    return Article(
        id=raw.id,
        source=raw.source,
        url=raw.url,
        canonical_url=canonical_url(raw.url),
        guid=raw.guid,
        title=title,
        title_derived=derived,
        published=_resolve_published(meta, raw, text),
        dateline=meta.dateline,
        agency=meta.agency,
        byline=meta.byline or raw.author,
        language=raw.language or meta.language or guess_language(body),
        feed_tags=list(raw.tags),
        text=body,
        paragraphs=paragraphs,
        content_hash=content_hash(body),
        ingested_at=raw.ingested_at,
    )
