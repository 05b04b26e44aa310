"""The same post, however its address was copied: one key per link a report cites.

Staff paste what their phone or browser gave them: `https://m.facebook.com/…?fbclid=…`,
`http://www.facebook.com/…/`, `facebook.com/…`, `https://youtu.be/ID?si=…`. `key()` reduces each to
one form, so the owner can be warned that an open case already cites the post (incidents/merging.py
`duplicates`). The key is for comparing only; it is never shown.

What is ignored: the scheme (http, https, none), the case of the host, `www.` and the mobile or web
prefixes (`m.`, `mobile.`, `mbasic.`, `touch.`, `web.`), the platforms' other hosts for the same site
(fb.com, twitter.com/x.com, youtu.be, instagr.am, …), a default port, the fragment, a trailing
slash, repeated slashes and the tracking parameters (utm_*, fbclid, gclid, igshid, si, …). The path's
case is kept (video ids and many posts are case-sensitive); the other parameters are kept, sorted
(`?v=` on YouTube, `?story_fbid=` on Facebook name the post).
"""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

# Prefixes of a host that name the same site for another device.
DEVICE_PREFIXES = ("www.", "m.", "mobile.", "mbasic.", "touch.", "web.", "mob.")

# Other hosts of the same platform, to one name.
SAME_SITE = {
    "fb.com": "facebook.com",
    "fb.me": "facebook.com",
    "facebook.co.uk": "facebook.com",
    "twitter.com": "x.com",
    "instagr.am": "instagram.com",
    "youtube-nocookie.com": "youtube.com",
    "music.youtube.com": "youtube.com",
    "vt.tiktok.com": "tiktok.com",
    "linkedin.co.uk": "linkedin.com",
    "threads.net": "threads.com",
}

# Sites whose addresses ignore the case of the path (x.com/Alice/status/1 is x.com/alice/status/1).
CASELESS_PATHS = frozenset({"x.com"})

# Parameters that say where the link was shared from or who clicked, never which post it is.
TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "igsh",
        "si",
        "feature",
        "ref",
        "ref_src",
        "ref_url",
        "mibextid",
        "rdid",
        "share_url",
        "sfnsn",
        "s",
        "t",
        "is_from_webapp",
        "sender_device",
        "_r",
        "_t",
        "trk",
        "lipi",
        "rcm",
        "app",
        "__cft__[0]",
        "__tn__",
        "__xts__[0]",
        "notif_id",
        "notif_t",
    }
)
TRACKING_PREFIXES = ("utm_", "__cft__", "__xts__", "pk_", "hsa_")

# A link in free text: with a scheme, or starting with www., or a bare host of a known platform.
FIND = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|\b(?:[a-z0-9-]+\.)*(?:facebook|fb|instagram|instagr|tiktok|twitter|x|youtube|youtu|linkedin|snapchat|"
    r"threads)\.(?:com|be|am|me|net|co\.uk)/[^\s<>\"']*",
    re.IGNORECASE,
)


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].lower()
    if host.endswith(":80") or host.endswith(":443"):
        host = host.rsplit(":", 1)[0]
    host = host.rstrip(".")
    changed = True
    while changed:
        changed = False
        for prefix in DEVICE_PREFIXES:
            if host.startswith(prefix) and host.count(".") > 1:
                host = host[len(prefix) :]
                changed = True
    return SAME_SITE.get(host, host)


def _tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING or name.startswith(TRACKING_PREFIXES)


def key(address: str) -> str | None:
    """The comparable form of one address, or None when it is not a web address."""
    address = (address or "").strip().strip("<>()[]\"'.,;")
    if not address:
        return None
    if not re.match(r"^[a-z][a-z0-9+.-]*://", address, re.IGNORECASE):
        if re.match(r"^[a-z][a-z0-9+-]*:(?!\d)", address, re.IGNORECASE):
            return None  # mailto:, tel:, javascript: — another scheme, not a web page
        address = "https://" + address
    try:
        parts = urlsplit(address)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "." not in parts.netloc:
        return None
    try:
        host = _host(parts.netloc)
    except ValueError:
        return None
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(k)]
    # youtu.be/ID and youtube.com/shorts/ID, /embed/ID, /live/ID are the watch page of ID.
    if host == "youtu.be" and path.strip("/"):
        host, query, path = "youtube.com", [("v", path.strip("/").split("/")[0]), *query], "/watch"
    elif host == "youtube.com":
        match = re.match(r"^/(?:shorts|embed|live|v)/([^/]+)", path)
        if match:
            query, path = [("v", match[1]), *query], "/watch"
    path = path.rstrip("/") or ""
    if host in CASELESS_PATHS:
        path = path.lower()
    tail = f"?{urlencode(sorted(query))}" if query else ""
    return f"{host}{path}{tail}"


def find(text: str) -> list[str]:
    """The web addresses in free text (one a line, or among words), as the reporter wrote them."""
    return [m.group(0) for m in FIND.finditer(text or "")]


def keys(*texts: str) -> set[str]:
    """The comparable forms of every address in `texts`."""
    return {k for text in texts for found in find(text) if (k := key(found))}
